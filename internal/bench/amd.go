package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/media"
)

// AMDClass is one kind of far end the PSTN model produces and what the
// analyser should call it.
type AMDClass struct {
	Name  string
	Sound pstn.SoundKind
	Want  dialer.CPAResult
}

// AMDClasses are the far ends of an answered (or in-band failed) call.
var AMDClasses = []AMDClass{
	{"live person", pstn.SoundLive, dialer.CPALive},
	{"answering machine", pstn.SoundMachine, dialer.CPAMachine},
	{"fax (calling, CNG)", pstn.SoundFax, dialer.CPAFax},
	{"fax (answering, CED)", pstn.SoundFaxAnswer, dialer.CPAFax},
	{"SIT intercept", pstn.SoundSITIntercept, dialer.CPASIT},
	{"SIT vacant code", pstn.SoundSITVacantCode, dialer.CPASIT},
	{"SIT no circuit", pstn.SoundSITNoCircuit, dialer.CPASIT},
	{"SIT reorder", pstn.SoundSITReorder, dialer.CPASIT},
	{"dead air", pstn.SoundDeadAir, dialer.CPADeadAir},
}

// AMDRow is one class's results.
type AMDRow struct {
	Class   AMDClass
	Calls   int
	Correct int
	// Got counts the decisions by result.
	Got map[dialer.CPAResult]int
	// Median and P95 decision times of the correct decisions.
	Median, P95 time.Duration
	// Beeps: machine calls where the terminating beep was found (when the
	// analyser listens for one: BeepSupported).
	Beeps         int
	BeepSupported bool
}

// Analyser is an answering-machine detector fed 20 ms frames: Cisco's CPA
// (dialer.CPA) or Asterisk's app_amd (dialer.AsteriskAMD).
type Analyser interface {
	Feed(pcm []int16) (dialer.CPAResult, error)
	DecidedAfter() time.Duration
}

// CiscoCPA and AsteriskAMD make analysers with default parameters.
func CiscoCPA() (Analyser, error)    { return dialer.NewCPA(dialer.DefaultCPAConfig()) }
func AsteriskAMD() (Analyser, error) { return dialer.NewAsteriskAMD(dialer.DefaultAsteriskAMDConfig()) }

// AMD runs an analyser over calls seeded far ends per class. The audio goes
// through G.711 µ-law and back, as it would over RTP.
func AMD(calls int, seed uint64, newAnalyser func() (Analyser, error)) ([]AMDRow, error) {
	var rows []AMDRow
	pcm := make([]int16, media.FrameSamples)
	law := make([]byte, media.FrameSamples)
	for ci, cl := range AMDClasses {
		row := AMDRow{Class: cl, Calls: calls, Got: map[dialer.CPAResult]int{}}
		var times []time.Duration
		for i := 0; i < calls; i++ {
			r := rand.New(rand.NewPCG(seed, uint64(ci)<<32|uint64(i)))
			snd := pstn.NewSound(cl.Sound, r, pstn.SoundOptions{})
			cpa, err := newAnalyser()
			if err != nil {
				return nil, err
			}
			beeper, _ := cpa.(interface{ Beep() (time.Duration, bool) })
			row.BeepSupported = beeper != nil
			res := dialer.CPAPending
			// 15 s of audio is ample for a decision; machines get 30 s to
			// find the beep.
			limit := 15 * 50
			if cl.Want == dialer.CPAMachine {
				limit = 30 * 50
			}
			for f := 0; f < limit; f++ {
				snd.ReadFrame(pcm)
				media.EncodeUlaw(law, pcm)
				media.DecodeUlaw(pcm, law)
				res, err = cpa.Feed(pcm)
				if err != nil {
					return nil, err
				}
				if res != dialer.CPAPending && (res != dialer.CPAMachine || cl.Want != dialer.CPAMachine) {
					break
				}
				if beeper == nil && res != dialer.CPAPending {
					break
				}
				if beeper != nil {
					if _, ok := beeper.Beep(); ok {
						break
					}
				}
			}
			row.Got[res]++
			if res == cl.Want {
				row.Correct++
				times = append(times, cpa.DecidedAfter())
			}
			if beeper != nil {
				if _, ok := beeper.Beep(); ok {
					row.Beeps++
				}
			}
		}
		slices.Sort(times)
		if len(times) > 0 {
			row.Median = times[len(times)/2]
			row.P95 = times[len(times)*95/100]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// AMDReport renders the rows as a Markdown table.
func AMDReport(rows []AMDRow) string {
	var b strings.Builder
	b.WriteString("| far end | calls | correct | decided as | median decision | p95 decision | beep found |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		var got []string
		for _, res := range []dialer.CPAResult{dialer.CPALive, dialer.CPAMachine, dialer.CPAFax, dialer.CPASIT, dialer.CPADeadAir, dialer.CPAPending} {
			if n := r.Got[res]; n > 0 {
				got = append(got, fmt.Sprintf("%s %d", res, n))
			}
		}
		beep := ""
		if r.Class.Want == dialer.CPAMachine {
			beep = "not listened for"
			if r.BeepSupported {
				beep = fmt.Sprintf("%d of %d", r.Beeps, r.Calls)
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f %% | %s | %v | %v | %s |\n", r.Class.Name, r.Calls,
			100*float64(r.Correct)/float64(r.Calls), strings.Join(got, ", "), r.Median, r.P95, beep)
	}
	return b.String()
}
