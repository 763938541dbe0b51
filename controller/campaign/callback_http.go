package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxCallbackBody bounds a web callback request: the form is four short
// fields, so anything larger is not one and is refused before it is read.
const MaxCallbackBody = 64 << 10

// callbackRequest is the JSON a web page posts.
type callbackRequest struct {
	Phone    string `json:"phone"`
	TimeZone string `json:"time_zone"`
	Name     string `json:"name"`
	At       string `json:"at"` // RFC 3339; empty = as soon as the calling hours allow
}

type callbackError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// named is e with its error text starting with the field it names.
func (e callbackError) named() callbackError {
	if e.Field != "" && !strings.HasPrefix(e.Error, e.Field+": ") {
		e.Error = e.Field + ": " + e.Error
	}
	return e
}

// NewCallbackHandler serves web callback requests for one campaign:
//
//	POST application/json {"phone", "time_zone", "name", "at"}
//	201 {"id": record ID}
//	400 {"error", "field"}  bad JSON or a bad field, named
//	405 not POST; 413 body over 64 KiB; 415 not JSON
//	404 campaign gone; 409 the number is being dialed now;
//	422 {"error", "field": "phone"} the number is on the DNC list
func NewCallbackHandler(store *Store, campaignID int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, callbackError{Error: "use POST"})
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, callbackError{Error: "Content-Type must be application/json"})
			return
		}
		req, status, cerr := decodeCallback(w, r)
		if cerr != nil {
			writeJSON(w, status, cerr)
			return
		}
		fields := map[string]string{}
		if req.Name != "" {
			fields["name"] = req.Name
		}
		var at time.Time
		if req.At != "" {
			at, _ = time.Parse(time.RFC3339, req.At) // checked by decodeCallback
		}
		rec, err := store.AddCallback(campaignID, req.Phone, req.TimeZone, fields, at)
		switch {
		case err == nil:
			writeJSON(w, http.StatusCreated, map[string]int64{"id": rec.ID})
		case errors.Is(err, ErrDNCListed):
			writeJSON(w, http.StatusUnprocessableEntity, callbackError{Error: "number is on the do-not-call list", Field: "phone"})
		case errors.Is(err, ErrInFlight):
			writeJSON(w, http.StatusConflict, callbackError{Error: "number is being called now", Field: "phone"})
		case errors.Is(err, ErrNotFound):
			writeJSON(w, http.StatusNotFound, callbackError{Error: "campaign not found"})
		default:
			// Store details stay in the server's logs, not on a public form.
			writeJSON(w, http.StatusInternalServerError, callbackError{Error: "internal error"})
		}
	})
}

// decodeCallback reads and checks the body, naming the field at fault.
func decodeCallback(w http.ResponseWriter, r *http.Request) (callbackRequest, int, *callbackError) {
	var req callbackRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxCallbackBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		// One object and nothing after it.
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return req, http.StatusRequestEntityTooLarge, &callbackError{Error: fmt.Sprintf("body over %d bytes", MaxCallbackBody)}
		case errors.As(err, &typeErr):
			return req, http.StatusBadRequest, &callbackError{Error: "want a string, got " + typeErr.Value, Field: typeErr.Field}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return req, http.StatusBadRequest, &callbackError{Error: "unknown field", Field: f}
		default:
			return req, http.StatusBadRequest, &callbackError{Error: "bad JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
		}
	}
	bad := func(field, msg string) (callbackRequest, int, *callbackError) {
		return req, http.StatusBadRequest, &callbackError{Error: msg, Field: field}
	}
	switch {
	case req.Phone == "":
		return bad("phone", "required")
	case req.TimeZone == "":
		return bad("time_zone", "required")
	}
	if _, err := NormalizePhone(req.Phone); err != nil {
		return bad("phone", err.Error())
	}
	if _, err := LoadZone(req.TimeZone); err != nil {
		return bad("time_zone", err.Error())
	}
	if utf8.RuneCountInString(req.Name) > 200 {
		return bad("name", "longer than 200 characters")
	}
	if req.At != "" {
		if _, err := time.Parse(time.RFC3339, req.At); err != nil {
			return bad("at", "want RFC 3339, e.g. 2026-03-02T15:04:05Z")
		}
	}
	return req, 0, nil
}

// writeJSON writes v as the answer. An error naming a field says it first
// ("phone: required"), as every answer of these APIs does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	switch e := v.(type) {
	case callbackError:
		v = e.named()
	case *callbackError:
		v = e.named()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
