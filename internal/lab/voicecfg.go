package lab

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/emulator/callmanager"
	"github.com/ipcclab/ipcclab/emulator/gateway"
	"github.com/ipcclab/ipcclab/scenarios"
)

// VoiceSettings is a scenario's voice section resolved to defaults, in the
// real driver's components' terms.
type VoiceSettings struct {
	// Media is false when endpoints only negotiate RTP: the gateway,
	// IP-IVR and the phones then run with Silent set.
	Media bool
	// IVR is IP-IVR's collect-digits script (ivr.Config fields of the same
	// names): default 8 digits, 6 s, 3 s, 2000 ms.
	DigitCount        int
	FirstDigitTimeout time.Duration
	InterDigitTimeout time.Duration
	AnnouncementMs    int
	// Causes is the gateway's Q.850 ↔ SIP mapping (gateway.Config.Causes):
	// the preset (default RFC 3398) with the scenario's overrides.
	Causes gateway.CauseMap
	// Registrar is CallManager's REGISTER limits (callmanager.Config.
	// Registrar; Lines is left for CallManager to fill). Zero fields take
	// CallManager's defaults.
	Registrar callmanager.RegistrarConfig
	// TranslationRoutes is the first of TranslationRouteCount consecutive
	// translation-route DNs (callmanager.Config fields of the same names;
	// default 7000 and 2000).
	TranslationRoutes     int
	TranslationRouteCount int
}

// VoiceConfig resolves the scenario's voice section. Errors name the
// scenario field, e.g. `scenario default: voice.cause_map.q850_to_sip[17]:
// status 999 out of range 300..699` (Parse has already checked the ranges,
// so errors only come from scenarios built in code).
func VoiceConfig(sc *scenarios.Scenario) (VoiceSettings, error) {
	v := sc.Voice
	vs := VoiceSettings{
		Media:                 v.MediaOn(),
		DigitCount:            v.IVR.Digits,
		FirstDigitTimeout:     v.IVR.FirstDigitTimeout.D(),
		InterDigitTimeout:     v.IVR.InterDigitTimeout.D(),
		AnnouncementMs:        int(v.IVR.Announcement.D() / time.Millisecond),
		Registrar:             callmanager.RegistrarConfig{Rate: v.Registrar.Rate, Burst: v.Registrar.Burst, SourceRate: v.Registrar.SourceRate, SourceBurst: v.Registrar.SourceBurst},
		TranslationRoutes:     v.TranslationRoutes.First,
		TranslationRouteCount: v.TranslationRoutes.Count,
	}
	if vs.DigitCount <= 0 {
		vs.DigitCount = 8
	}
	if vs.FirstDigitTimeout <= 0 {
		vs.FirstDigitTimeout = 6 * time.Second
	}
	if vs.InterDigitTimeout <= 0 {
		vs.InterDigitTimeout = 3 * time.Second
	}
	if vs.AnnouncementMs <= 0 {
		vs.AnnouncementMs = 2000
	}
	if vs.TranslationRoutes <= 0 {
		vs.TranslationRoutes = scenarios.DefaultTranslationRouteFirst
	}
	if vs.TranslationRouteCount <= 0 {
		vs.TranslationRouteCount = scenarios.DefaultTranslationRouteCount
	}
	cm, err := gateway.CauseMapPreset(v.CauseMap.Preset)
	if err != nil {
		return vs, fmt.Errorf("scenario %s: voice.cause_map.preset: unknown preset %q (valid: %s)", sc.Name, v.CauseMap.Preset,
			strings.Join(gateway.PresetNames(), ", "))
	}
	if vs.Causes, err = cm.With(v.CauseMap.Q850ToSIP, v.CauseMap.SIPToQ850); err != nil {
		return vs, fmt.Errorf("scenario %s: %s", sc.Name, strings.Replace(err.Error(), "gateway.", "voice.cause_map.", 1))
	}
	return vs, nil
}
