package dialer

// Helpers shared by the field baselines: the fixed-ratio dialer (ratio.go),
// VICIdial's adaptive dialer (vicidial.go) and the threshold dialer of the
// blending literature (threshold.go).
//
// The VICIdial code cited in these files was read from the public mirror
// github.com/ccabrerar/vicidial (bin/AST_VDauto_dial.pl and bin/AST_VDadapt.pl,
// both v2.14, at commit 0aa61f82; dialer-anchors.md §1 cites commit 739c0ce
// of the same mirror) and extras/MySQL_AST_CREATE_tables.sql.

import (
	"math"
	"strconv"
	"strings"
)

// vdAgents is the agent count of VICIdial's placement loop (§1.2 step 1): an
// agent READY or DONE is available, an agent whose call is still in
// vicidial_auto_calls is in call, and an agent whose call has ended (one who
// is dispositioning, our WrapUp) is "dead" and not counted. AST_VDauto_dial.pl:
// DBIPcount = all − DBIPDEADcount (available_only_ratio_tally = N).
func vdAgents(s Snapshot) int { return s.Count(Ready) + s.Count(Talking) }

// vdExisting is the "existing calls" of the placement loop (§1.2 step 5): the
// campaign's rows of vicidial_auto_calls in SENT, RINGING, LIVE, XFER or
// CLOSER. Calls being dialed are SENT/RINGING, an answered call waiting for
// an agent is LIVE, and a call connected to an agent stays in the table as
// XFER/CLOSER until it ends, so the calls of Talking agents count too.
func vdExisting(s Snapshot) int { return len(s.Dialing) + s.Waiting + s.Count(Talking) }

// vdPlacement is the rest of the placement loop (§1.2 steps 4 and 6):
//
//	$DBIPgoalcalls = sprintf("%.0f", $DBIPadlevel * $DBIPcount);
//	$DBIPmakecalls = $DBIPgoalcalls - $DBIPexistcalls;   # placed only if > 0
//
// The trunk and port limits of step 6 are the controller's (Snapshot.MaxNew).
func vdPlacement(level float64, agents, existing int) int {
	goal := perlSprintf0(level * float64(agents))
	n := int(goal) - existing
	if n < 0 {
		return 0
	}
	return n
}

// perlSprintf0 is Perl's sprintf("%.0f", nv). Perl special-cases "%.0f"
// (S_F0convert in sv.c) instead of calling the C library:
//
//	uv = (UV)nv;
//	if (uv != nv) {
//	    nv += 0.5;
//	    uv = (UV)nv;
//	    if (uv & 1 && uv == nv)
//	        uv--;   /* Round to even */
//	}
//
// that is, round half to even (2.5 → 2, 3.5 → 4), as glibc's printf would
// also do, and unlike Go's math.Round (half away from zero). Values the
// dialer produces are small and non-negative; the sign is kept anyway.
func perlSprintf0(nv float64) float64 {
	if math.IsNaN(nv) || math.IsInf(nv, 0) {
		return nv
	}
	neg := nv < 0
	if neg {
		nv = -nv
	}
	uv := math.Trunc(nv)
	if uv != nv {
		nv += 0.5
		uv = math.Trunc(nv)
		if math.Mod(uv, 2) == 1 && uv == nv {
			uv--
		}
	}
	if neg {
		return -uv
	}
	return uv
}

// perlFixed is the numeric value of Perl's sprintf("%.<prec>f", x), which
// Perl hands to the C library: the exact binary value correctly rounded to
// prec decimals, ties to even. strconv does the same.
func perlFixed(x float64, prec int) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', prec, 64), 64)
	if err != nil {
		return x
	}
	return v
}

// vdStoreLevel is the value AST_VDadapt.pl's next pass (and the placement
// loop) reads back after
//
//	UPDATE vicidial_campaigns SET auto_dial_level='$intensity_dial_level[$i]' ...
//
// Perl interpolates a number with "%.15g", and auto_dial_level is a
// VARCHAR(6) (extras/MySQL_AST_CREATE_tables.sql), so a longer string is cut
// to 6 characters. That is MySQL's behaviour outside strict SQL mode, which
// VICIdial servers run in (assumption: under strict mode the UPDATE would fail
// and the level would not change at all). Levels whose decimal form fits in 6
// characters (all of §1.3's examples) are unchanged; 2.857 × 0.77 = 2.19989 is
// stored as 2.1998.
func vdStoreLevel(x float64) float64 {
	s := strconv.FormatFloat(x, 'g', 15, 64)
	if strings.ContainsAny(s, "eE") {
		return x // not reached for levels ≥ 1.0
	}
	if len(s) > 6 {
		s = s[:6]
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "."), 64)
	if err != nil {
		return x
	}
	return v
}

// javaRound is Java's Math.round(double) since Java 7: the closest long,
// ties rounding towards positive infinity (2.5 → 3, −2.5 → −2), as used by
// ContactCenters' ThresholdDialerPolicy.
func javaRound(x float64) int {
	f := math.Floor(x)
	if x-f >= 0.5 {
		f++
	}
	return int(f)
}

// formatLevel prints a level for a strategy name: the shortest decimal form,
// with ".0" added to whole numbers ("1.0", "2.5", "1.25").
func formatLevel(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
