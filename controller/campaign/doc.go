// Package campaign is the reference dialer's campaign store: campaigns, their
// call lists, scheduled recalls, web callbacks, the do-not-call list and the
// attempt journal, kept in SQLite (modernc.org/sqlite, WAL; design.md "Data
// and persistence").
//
// # The journal
//
// Every dial attempt is written before the INVITE goes out: BeginAttempt marks
// the record dialing and inserts the attempt row in one transaction, and only
// after it returns may the caller dial. EndAttempt closes the attempt and
// applies the campaign's retry rule (retry.go). Selection (Next,
// NextForAgent) claims the records it hands out by marking them dialing in
// the same transaction that chose them, so two callers never get the same
// record, even at once.
//
// # Crash rule
//
// Open resolves what a crash (the process killed mid-call) left behind, before
// anything else can read the store:
//
//   - An attempt without an end (the process died between BeginAttempt and
//     EndAttempt) may or may not have reached the customer. It is closed with
//     outcome "unknown" at the recovery time, and its record is rescheduled by
//     the campaign's abandoned-call retry rule with the attempt counted (it
//     was counted at BeginAttempt): an answered call the crash dropped is an
//     abandon, so the abandoned-call rule applies (by default and in a UK
//     campaign the 72 h lockout) — pending at recovery time +
//     Abandoned.Delay, or exhausted when MaxAttempts is reached, or done
//     when Abandoned does not retry. The record is neither lost nor redialed as new, and it is never
//     in flight twice.
//   - A record marked dialing with no attempt row was claimed by Next but never
//     dialed (the journal proves no INVITE went out), so it goes back to
//     pending with its attempt count unchanged.
//
// One controller process owns a database file: recovery on Open would close
// the live attempts of another process using the same file (PostgreSQL is
// the shared-store option, design.md).
//
// # CSV call lists
//
// ImportCSV reads RFC 4180 CSV (comma separated, "..." quoting, LF or CRLF
// line ends, UTF-8, an optional byte-order mark). The header row is required;
// names are matched case-insensitively after trimming spaces:
//
//	phone      required. Digits in international form; spaces, '-', '.',
//	           '(' ')' and one leading '+' are removed; 7–15 digits remain
//	           (E.164 allows at most 15). Stored without '+'.
//	time_zone  IANA name (America/New_York). Either this or region per row;
//	region     ISO 3166 country (GB, IN) or US state (US-NY) that lies in a
//	           single time zone; a row with both uses time_zone.
//	priority   optional integer 0–100, higher dials first; empty = 0.
//	any other  kept verbatim as customer fields (name, account, …).
//
// At least one of time_zone and region must be in the header. Every data row
// is either imported or reported in Report.Rejected with its 1-based line
// number and a reason; a number on the do-not-call list is imported with
// status dnc and counted in Report.DNC (it is part of the list, it just must
// not be called). Good rows are written in one transaction. Blank lines carry
// no data and are skipped.
//
// # Storage
//
// Open keeps the store in SQLite; OpenMemory in maps, for simulation. The
// rules — selection order and its checks, BeginAttempt's checks, the retry
// decision, recalls, callbacks, DNC — are one Go implementation written
// against the storage's rows and indexes (backend.go), so both storages
// behave alike (the package's tests run against both). Selection reads by
// index only the records it returns (select.go), so its cost does not grow
// with the list.
//
// # The running controller
//
// Source is a campaign as the controller's record source
// (controller.Records); CampaignAPI serves the campaign over HTTP so it can
// be edited while the controller runs: the pacing limits go to the
// controller (Limits, controller.Core.UpdateCampaign), everything else is
// read afresh by the next selection.
//
// # Time
//
// The pure parts — InWindow, Decide and the choice of open time zones — take
// time as an argument. The store reads the clock only through Config.Now, for
// the timestamps of imports and of crash recovery; everything else takes now
// from the caller.
package campaign
