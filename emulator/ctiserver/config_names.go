package ctiserver

import (
	"hash/fnv"
	"strings"
)

// The PG knows an agent by ID, extension and skill target ID only; a
// configuration download also carries first, last and login names. They
// are derived from the agent ID alone, so that the same agent always gets
// the same names (and the agent config key stays put).

var firstNames = [...]string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
	"David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
	"Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
	"Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily", "Paul", "Donna",
	"Andrew", "Michelle", "Kenji", "Carol", "Joshua", "Amanda", "Priya", "Melissa",
	"Kevin", "Deborah", "Brian", "Stephanie", "Omar", "Rebecca", "Ahmed", "Laura",
}

var lastNames = [...]string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
	"Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
	"Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
	"Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
}

// agentNames returns the first name, last name and login name of the agent
// with this ID. The login name is the lower-case initial and last name
// followed by the agent ID, which keeps it unique on the peripheral.
func agentNames(agentID string) (first, last, login string) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(agentID))
	v := h.Sum64()
	first = firstNames[v%uint64(len(firstNames))]
	last = lastNames[(v/uint64(len(firstNames)))%uint64(len(lastNames))]
	login = strings.ToLower(first[:1]+last) + agentID
	return first, last, login
}
