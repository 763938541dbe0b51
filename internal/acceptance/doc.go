// Package acceptance holds black-box acceptance tests that run the built
// ipcclab CLI as a child process and talk to it only over TCP, through an
// independent CTI client written in Python from the protocol reference
// (testdata/cti_probe.py). It has no non-test code.
package acceptance
