package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
)

// On `up`, the desktop refuses the agents the emulator drives: a login of
// one would take it over, and its logout would log the emulated agent out
// of the running centre. The default scenario has no desktop group.
func TestUpDesktopRefusesEmulatedAgents(t *testing.T) {
	sc, err := loadScenario("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", NoController: true, Desktop: agentDesktop})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	agent := sc.Agents[0]
	id, ext := strconv.Itoa(agent.FirstAgentID), strconv.Itoa(agent.FirstExtension)
	resp, err := http.PostForm("http://"+r.HTTPAddr()+"/desktop/api/login", url.Values{"agent": {id}, "extension": {ext}, "password": {agent.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Field, Error string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusConflict || out.Field != "agent" || !strings.Contains(out.Error, "agent "+id+" is not a desktop agent") ||
		!strings.Contains(out.Error, "desktop: true") {
		t.Errorf("desktop login of emulated agent %s (group %s): %d %+v, want 409 naming agent", id, agent.Name, resp.StatusCode, out)
	}
}
