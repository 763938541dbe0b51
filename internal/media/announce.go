package media

import "math/rand/v2"

// AnnouncementConfig shapes a recorded message: synthetic speech in phrases
// separated by short pauses, then the source ends. Zero fields take the
// defaults.
type AnnouncementConfig struct {
	// LengthMs is the message's length, pauses included (6000: a
	// safe-harbour message names the seller and a number to call back).
	LengthMs int
	// PhraseMinMs, PhraseMaxMs bound each phrase (800..2500), PauseMinMs,
	// PauseMaxMs the pauses between phrases (150..450): the shape of a
	// recorded announcement (no long gaps, unlike a conversation).
	PhraseMinMs, PhraseMaxMs int
	PauseMinMs, PauseMaxMs   int
	// LevelDBm0 is the speech level (-18: announcements are recorded
	// louder than telephone talkers).
	LevelDBm0 float64
}

func (c AnnouncementConfig) withDefaults() AnnouncementConfig {
	if c.LengthMs <= 0 {
		c.LengthMs = 6000
	}
	if c.PhraseMinMs <= 0 {
		c.PhraseMinMs = 800
	}
	if c.PhraseMaxMs < c.PhraseMinMs {
		c.PhraseMaxMs = max(c.PhraseMinMs, 2500)
	}
	if c.PauseMinMs <= 0 {
		c.PauseMinMs = 150
	}
	if c.PauseMaxMs < c.PauseMinMs {
		c.PauseMaxMs = max(c.PauseMinMs, 450)
	}
	if c.LevelDBm0 == 0 {
		c.LevelDBm0 = -18
	}
	return c
}

// Announcement is a recorded message as a Source: phrases of synthetic
// speech (SpeechGenerator) drawn from a seeded stream, ending after
// LengthMs. The same seed gives the same message.
type Announcement struct {
	g     *SpeechGenerator
	left  int // samples left
	total int
}

// NewAnnouncement plans the message from r.
func NewAnnouncement(cfg AnnouncementConfig, r *rand.Rand) *Announcement {
	cfg = cfg.withDefaults()
	uniform := func(lo, hi int) int {
		if hi <= lo {
			return lo
		}
		return lo + r.IntN(hi-lo+1)
	}
	var pattern []int
	for got := 0; got < cfg.LengthMs; {
		w := uniform(cfg.PhraseMinMs, cfg.PhraseMaxMs)
		if rest := cfg.LengthMs - got; rest-w < cfg.PhraseMinMs {
			w = rest // no runt phrase at the end
		}
		pattern = append(pattern, w)
		got += w
		if got >= cfg.LengthMs {
			break
		}
		p := min(uniform(cfg.PauseMinMs, cfg.PauseMaxMs), cfg.LengthMs-got)
		pattern = append(pattern, p)
		got += p
	}
	n := MsToSamples(cfg.LengthMs)
	return &Announcement{g: NewSpeechGenerator(SpeechConfig{LevelDBm0: cfg.LevelDBm0, Pattern: pattern}, r), left: n, total: n}
}

// ReadFrame plays the next frame; false once the message is over.
func (a *Announcement) ReadFrame(dst []int16) bool {
	if a.left <= 0 {
		clear(dst)
		return false
	}
	k := min(len(dst), a.left)
	a.g.Read(dst[:k])
	clear(dst[k:])
	a.left -= k
	return true
}

// DurationMs is the message's length.
func (a *Announcement) DurationMs() int { return a.total * 1000 / SampleRate }
