package lab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/web"
)

// callbackBooker books the web callback page's requests in the campaign
// store as callback records (selected before ordinary records once due),
// and tells the controller its records changed so that it looks at once.
type callbackBooker struct {
	store   *campaign.Store
	id      int64
	changed func() // nil without a controller
}

// BookCallback implements web.CallbackBooker. A time outside the
// campaign's calling hours in the customer's zone is refused (the record
// would wait for the window anyway, and the customer would be waiting for
// a call at the time they chose); "as soon as possible" is due now and
// waits for the window like any record.
func (b *callbackBooker) BookCallback(ctx context.Context, req web.CallbackRequest) (int64, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	if !req.At.IsZero() {
		c, err := b.store.Campaign(b.id)
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("campaign %d: %w", b.id, err)
		}
		loc, err := campaign.LoadZone(req.TimeZone)
		if err != nil {
			return 0, time.Time{}, &web.FieldError{Field: "time_zone", Message: err.Error()}
		}
		if !campaign.InWindow(req.At, loc, c.CallingHours) {
			return 0, time.Time{}, &web.FieldError{Field: "at",
				Message: fmt.Sprintf("%s is outside the calling hours (%s, your time)", req.At.In(loc).Format("Mon 15:04"), c.CallingHours)}
		}
	}
	if _, err := campaign.NormalizePhone(req.Phone); err != nil {
		// The store's own rule (7–15 digits) is stricter than the form's.
		return 0, time.Time{}, &web.FieldError{Field: "phone", Message: err.Error()}
	}
	fields := map[string]string{"name": req.Name}
	if req.Note != "" {
		fields["note"] = req.Note
	}
	rec, err := b.store.AddCallback(b.id, req.Phone, req.TimeZone, fields, req.At)
	switch {
	case errors.Is(err, campaign.ErrDNCListed):
		return 0, time.Time{}, &web.FieldError{Field: "phone", Message: "this number is on the do-not-call list", Status: http.StatusUnprocessableEntity}
	case errors.Is(err, campaign.ErrInFlight):
		return 0, time.Time{}, &web.FieldError{Field: "phone", Message: "this number is being called right now", Status: http.StatusConflict}
	case err != nil:
		return 0, time.Time{}, err
	}
	if b.changed != nil {
		b.changed()
	}
	return rec.ID, rec.NextAt, nil
}

// callbackPage is the web callback form of the call list's campaign, its
// zones those of the list (the commonest first, the form's default).
func (r *Running) callbackPage(logf func(string, ...any)) (*web.CallbackPage, error) {
	store, id := r.camp.store, r.camp.id
	c, err := store.Campaign(id)
	if err != nil {
		return nil, fmt.Errorf("campaign %d: %w", id, err)
	}
	recs, err := store.Records(id)
	if err != nil {
		return nil, fmt.Errorf("campaign %d records: %w", id, err)
	}
	count := map[string]int{}
	for _, rec := range recs {
		count[rec.TimeZone]++
	}
	zones := make([]string, 0, len(count))
	for z := range count {
		if z != "" {
			zones = append(zones, z)
		}
	}
	slices.SortFunc(zones, func(a, b string) int { return cmp.Or(count[b]-count[a], cmp.Compare(a, b)) })
	if len(zones) == 0 {
		zones = []string{"UTC"}
	}
	b := &callbackBooker{store: store, id: id}
	if r.ctrl != nil {
		b.changed = r.ctrl.RecordsChanged
	}
	return web.NewCallbackPage(web.CallbackConfig{Booker: b, Campaign: c.Name, TimeZones: zones, Logf: logf})
}

// scheduled lists the campaign's next callbacks and recalls for the
// dashboard, soonest first, at most web.MaxScheduled: the store reads those
// records only.
func scheduled(store *campaign.Store, id int64) ([]web.Scheduled, error) {
	booked, err := store.Scheduled(id, web.MaxScheduled)
	if err != nil {
		return nil, err
	}
	out := make([]web.Scheduled, 0, len(booked))
	for _, b := range booked {
		r := b.Record
		out = append(out, web.Scheduled{RecordID: r.ID, At: b.At, Kind: string(b.Kind), Phone: r.Phone,
			Name: r.CustomerFields["name"], TimeZone: r.TimeZone})
	}
	return out, nil
}
