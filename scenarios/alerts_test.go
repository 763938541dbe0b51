package scenarios

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting/alerts"
)

// alertsYAML is the default scenario with a controller.alerts section.
func alertsYAML(section string) string {
	return strings.Replace(string(DefaultYAML()), "controller:\n", "controller:\n  alerts:\n"+section, 1)
}

func TestAlertsDefaultsAndOverrides(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := def.AlertsConfig(); !reflect.DeepEqual(got, alerts.Default()) {
		t.Fatalf("no section: %+v, want the defaults", got)
	}
	s, err := Parse("alerts.yaml", []byte(alertsYAML(`    webhook: https://hooks.example.com/ipcc
    service_level: {below: 0.5, clear_at: 0.75, windows: [to5, half], per_call_type: false}
    inbound_abandon: {off: true}
    queue_wait: {above: 2m, for: 30s}
    reserved: {above: 45s}
    list: {below: 500, clear_at: 600}
`)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Controller.Alerts.Webhook != "https://hooks.example.com/ipcc" {
		t.Fatalf("webhook %q", s.Controller.Alerts.Webhook)
	}
	want := alerts.Default()
	want.ServiceLevel.Below, want.ServiceLevel.ClearAt, want.ServiceLevel.Windows = 0.5, 0.75, []string{"to5", "half"}
	want.ServiceLevel.PerCallType = false
	want.InboundAbandon = alerts.InboundAbandon{}
	want.QueueWait.Above, want.QueueWait.For = 2*time.Minute, 30*time.Second
	want.Reserved.Above = 45 * time.Second
	want.List.Below, want.List.ClearAt = 500, 600
	if got := s.AlertsConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	off, err := Parse("off.yaml", []byte(alertsYAML("    off: true\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got := off.AlertsConfig(); !reflect.DeepEqual(got, alerts.Config{}) {
		t.Fatalf("off: %+v", got)
	}
}

func TestAlertsBadInput(t *testing.T) {
	tests := []struct {
		section, want string
	}{
		{"    webhook: ftp://x\n", ":L: controller.alerts.webhook: must be an http or https URL"},
		{"    service_level: {below: 0.8, clear_at: 0.7}\n", ":L: controller.alerts.service_level.clear_at: must be above"},
		{"    service_level: {windows: [day]}\n", ":L: controller.alerts.service_level.windows[0]: must be to5 or half"},
		{"    inbound_abandon: {above: 1.5}\n", ":L: controller.alerts.inbound_abandon.above: must be a fraction"},
		{"    queue_wait: {above: 1m, clear_at: 2m}\n", ":L: controller.alerts.queue_wait.clear_at: must be below"},
		{"    outbound_abandon: {warn_ratio: 1.2}\n", ":L: controller.alerts.outbound_abandon.warn_ratio"},
		{"    reserved: {above: 30}\n", "not a duration"},
		{"    list: {bellow: 3}\n", "bellow"},
	}
	// The section's line: the one after "controller:" and "alerts:".
	line := strconv.Itoa(strings.Count(strings.SplitAfter(string(DefaultYAML()), "controller:\n")[0], "\n") + 2)
	for _, tc := range tests {
		_, err := Parse("bad.yaml", []byte(alertsYAML(tc.section)))
		var se *Error
		want := strings.Replace(tc.want, ":L:", ":"+line+":", 1)
		if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", strings.TrimSpace(tc.section), err, want)
		}
	}
}
