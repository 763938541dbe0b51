package desktop

import (
	"fmt"
	"slices"
	"strings"
)

// DeskAgentsOnly is a Config.Agents for a centre whose other agents are
// emulated: only the agents in desk (a scenario's agents of groups marked
// desktop: true) may log in. Any other agent ID is refused, naming the
// agent and how to make it a desktop agent; an empty desk refuses every
// login.
func DeskAgentsOnly(desk []string) func(agentID string) error {
	allowed := make(map[string]bool, len(desk))
	for _, id := range desk {
		allowed[id] = true
	}
	sorted := slices.Clone(desk)
	slices.Sort(sorted)
	// The message lists a few of the agents that may log in, so that a
	// person who mistyped sees the right IDs.
	const shown = 5
	list := strings.Join(sorted[:min(len(sorted), shown)], ", ")
	if len(sorted) > shown {
		list += fmt.Sprintf(" and %d more", len(sorted)-shown)
	}
	return func(agentID string) error {
		if allowed[agentID] {
			return nil
		}
		if len(sorted) == 0 {
			return fmt.Errorf("agent %s is not a desktop agent: the emulator drives this centre's agents, none is a desktop agent; mark a group desktop: true in the scenario", agentID)
		}
		return fmt.Errorf("agent %s is not a desktop agent (those are %s): the emulator drives the others; mark its group desktop: true in the scenario", agentID, list)
	}
}
