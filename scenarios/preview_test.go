package scenarios

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// previewYAML is the default scenario in preview mode: dialer ports for the
// reservation calls and preview answers for the outbound group.
func previewYAML(pacing, answers string) string {
	y := string(DefaultYAML())
	y = strings.Replace(y, "  number_prefix: \"1555\"\n", "  number_prefix: \"1555\"\n  dialer_ports: {count: 8, first_extension: 5001}\n", 1)
	y = strings.Replace(y, "  pacing:\n", "  pacing:\n    mode: preview\n"+pacing, 1)
	return strings.Replace(y, "    wrap_up: {shape: lognormal, mean: 15s, cv: 0.6}\n", "    wrap_up: {shape: lognormal, mean: 15s, cv: 0.6}\n"+answers, 1)
}

// TestPreviewMode: controller.pacing.mode preview with its settings and
// their defaults, and an agent group's preview answers.
func TestPreviewMode(t *testing.T) {
	s, err := Parse("preview.yaml", []byte(previewYAML("    preview: {timeout: 45s}\n",
		"    preview: {think: {shape: lognormal, mean: 4s, cv: 0.5}, accept: 0.8, skip: 0.15, reject: 0.05}\n")))
	if err != nil {
		t.Fatal(err)
	}
	pv := s.Controller.Pacing.Preview
	if s.Controller.Pacing.Mode != PacingPreview || pv.Timeout.D() != 45*time.Second || pv.RejectPause.D() != 30*time.Second || pv.RetryDelay.D() != 30*time.Minute {
		t.Fatalf("pacing %+v", s.Controller.Pacing)
	}
	a := s.Agents[3].Preview
	if a == nil || a.Accept != 0.8 || a.Skip != 0.15 || a.Reject != 0.05 || a.Think.Mean.D() != 4*time.Second {
		t.Fatalf("outbound group's preview answers %+v", a)
	}
	if s.Agents[0].Preview != nil {
		t.Fatal("a group without preview answers got some")
	}
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if def.Controller.Pacing.Preview != (PreviewPacing{}) {
		t.Fatalf("the default scenario (agent mode) got preview settings %+v", def.Controller.Pacing.Preview)
	}
}

// TestPreviewModeBadInput: every bad preview setting is reported with its
// file line and field.
func TestPreviewModeBadInput(t *testing.T) {
	noPorts := strings.Replace(string(DefaultYAML()), "  pacing:\n", "  pacing:\n    mode: preview\n", 1)
	if _, err := Parse("bad.yaml", []byte(noPorts)); err == nil || !strings.Contains(err.Error(), "controller.pacing.mode: preview mode places its reservation calls from dialer ports") {
		t.Errorf("preview without dialer ports: %v", err)
	}
	for _, tc := range []struct {
		pacing, answers, want string
	}{
		{"    preview: {timeout: 500ms}\n", "", "controller.pacing.preview.timeout: must be between 1s and 1h"},
		{"    preview: {timeout: 2h}\n", "", "controller.pacing.preview.timeout: must be between 1s and 1h"},
		{"    preview: {reject_pause: -1s}\n", "", "controller.pacing.preview.reject_pause: must not be negative"},
		{"    preview: {retry_delay: -1m}\n", "", "controller.pacing.preview.retry_delay: must not be negative"},
		{"    preview: {timeout: soon}\n", "", "controller.pacing.preview.timeout: not a duration"},
		{"    preview: {wait: 5s}\n", "", "field wait not found"},
		{"", "    preview: {accept: 0.8, skip: 0.3}\n", "agents[3].preview.accept: accept, skip, reject, skip_close, reject_close and callback must add up to at most 1"},
		{"", "    preview: {accept: 1.5}\n", "agents[3].preview.accept: must be a probability between 0 and 1"},
		{"", "    preview: {reject: -0.1}\n", "agents[3].preview.reject: must be a probability between 0 and 1"},
		{"", "    preview: {think: {shape: uniform, mean: 3s}}\n", "agents[3].preview.think.shape: must be fixed, exponential or lognormal"},
		{"", "    preview: {accept: 1, callback_after: -1h}\n", "agents[3].preview.callback_after: must not be negative"},
	} {
		y := previewYAML(tc.pacing, tc.answers)
		_, err := Parse("bad.yaml", []byte(y))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: error %v, want %q", tc.pacing, tc.answers, err, tc.want)
			continue
		}
		// The problem is reported at the line of the bad setting.
		line := strings.TrimSpace(tc.pacing + tc.answers)
		n := 1 + strings.Count(y[:strings.Index(y, line)], "\n")
		if !strings.Contains(err.Error(), "bad.yaml:"+strconv.Itoa(n)+":") {
			t.Errorf("%q: reported at %v, want line %d", line, err, n)
		}
	}
}
