package media

// VADConfig tunes the energy VAD. Zero fields take the defaults.
type VADConfig struct {
	ThresholdDBm0  float64 // frame level at or above which a frame is speech (-40)
	OnsetFrames    int     // consecutive loud frames to declare speech (1)
	HangoverFrames int     // quiet frames kept as speech after it (4 = 80 ms; negative = none)
}

// DefaultVADConfig returns the defaults.
func DefaultVADConfig() VADConfig {
	return VADConfig{ThresholdDBm0: -40, OnsetFrames: 1, HangoverFrames: 4}
}

// VAD is a frame-energy voice activity detector with onset and hangover,
// the voice measure of answering-machine detection.
type VAD struct {
	cfg    VADConfig
	loud   int
	hang   int
	active bool
}

// NewVAD returns a VAD for cfg (zero fields defaulted).
func NewVAD(cfg VADConfig) *VAD {
	d := DefaultVADConfig()
	if cfg.ThresholdDBm0 == 0 {
		cfg.ThresholdDBm0 = d.ThresholdDBm0
	}
	if cfg.OnsetFrames <= 0 {
		cfg.OnsetFrames = d.OnsetFrames
	}
	if cfg.HangoverFrames == 0 {
		cfg.HangoverFrames = d.HangoverFrames
	} else if cfg.HangoverFrames < 0 {
		cfg.HangoverFrames = 0
	}
	return &VAD{cfg: cfg}
}

// Config returns the effective configuration.
func (v *VAD) Config() VADConfig { return v.cfg }

// Active reports the current decision.
func (v *VAD) Active() bool { return v.active }

// Process classifies one frame, returning the decision and the frame level.
func (v *VAD) Process(frame []int16) (active bool, levelDBm0 float64) {
	levelDBm0 = FrameDBm0(frame)
	if levelDBm0 >= v.cfg.ThresholdDBm0 {
		v.loud++
		if v.loud >= v.cfg.OnsetFrames {
			v.active, v.hang = true, v.cfg.HangoverFrames
		}
	} else {
		v.loud = 0
		if v.active {
			if v.hang > 0 {
				v.hang--
			} else {
				v.active = false
			}
		}
	}
	return v.active, levelDBm0
}
