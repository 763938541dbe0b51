package media

// ToneSource plays a Tone as a Source; it ends when a non-repeating tone
// does.
func ToneSource(t Tone) Source { return &toneSource{g: NewToneGenerator(t)} }

type toneSource struct{ g *ToneGenerator }

func (s *toneSource) ReadFrame(dst []int16) bool {
	if s.g.Done() {
		clear(dst)
		return false
	}
	s.g.Read(dst)
	return true
}

// Silence is a Source of n frames of silence (n < 0: forever).
func Silence(frames int) Source { return &silence{left: frames} }

type silence struct{ left int }

func (s *silence) ReadFrame(dst []int16) bool {
	clear(dst)
	if s.left == 0 {
		return false
	}
	if s.left > 0 {
		s.left--
	}
	return true
}

// Sequence plays sources one after the other and ends with the last.
func Sequence(srcs ...Source) Source { return &sequence{srcs: srcs} }

type sequence struct{ srcs []Source }

func (s *sequence) ReadFrame(dst []int16) bool {
	for len(s.srcs) > 0 {
		if s.srcs[0].ReadFrame(dst) {
			return true
		}
		s.srcs = s.srcs[1:]
	}
	clear(dst)
	return false
}

// HoldMusic is a repeating eight-note melody at about -22 dBm0: what
// IP-IVR plays to a queued caller between announcements. Tonal, so a
// detector on the caller's side can tell "music" from "agent speech".
func HoldMusic() Tone {
	notes := []float64{523.25, 659.25, 783.99, 659.25, 587.33, 698.46, 880.00, 698.46}
	t := Tone{Name: "hold music", Repeat: true}
	for _, f := range notes {
		t.Segments = append(t.Segments,
			ToneSegment{Components: []ToneComponent{{f, -22}, {f / 2, -28}}, DurationMs: 380},
			ToneSegment{DurationMs: 20})
	}
	return t
}
