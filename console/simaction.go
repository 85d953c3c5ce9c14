package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// simAction is one of the changes the SIM page offers.
type simAction struct {
	Title   string // button and heading: "Suspend"
	Done    string // flash after success: "suspended"
	Warning string // what it does, shown on the confirmation page
	Danger  bool
	do      func(c *Console, x *call, ref string, version int64, in actionInput) (simguard.SIM, error)
}

type actionInput struct {
	For  string
	IMEI string
	Mode string
}

var simActionsByName = map[string]simAction{
	"activate": {
		Title: "Activate", Done: "activated",
		Warning: "The SIM gets service as its group's policy allows. With a duration it is in service only until then.",
		do: func(c *Console, x *call, ref string, v int64, in actionInput) (simguard.SIM, error) {
			d, err := parseDuration("for", in.For)
			if err != nil {
				return simguard.SIM{}, err
			}
			return c.svc.ActivateSIM(x.ctx, ref, v, d)
		},
	},
	"suspend": {
		Title: "Suspend", Done: "suspended", Danger: true,
		Warning: "The SIM loses every service at once: enforcement points deny its next request, and live sessions are ended where the enforcement point can do so.",
		do: func(c *Console, x *call, ref string, v int64, _ actionInput) (simguard.SIM, error) {
			return c.svc.SuspendSIM(x.ctx, ref, v)
		},
	},
	"bind-imei": {
		Title: "Bind IMEI", Done: "bound to the device",
		Warning: "The SIM then works only in the device with this IMEI; any other device is denied.",
		do: func(c *Console, x *call, ref string, v int64, in actionInput) (simguard.SIM, error) {
			if strings.TrimSpace(in.IMEI) == "" {
				return simguard.SIM{}, simguard.FieldError("imei", "is required: the device's IMEI (15 digits) or IMEISV (16)")
			}
			return c.svc.BindIMEI(x.ctx, ref, v, strings.TrimSpace(in.IMEI))
		},
	},
	"unbind-imei": {
		Title: "Unbind IMEI", Done: "unbound from its device", Danger: true,
		Warning: "The SIM is no longer locked to its device. In learn mode the next device seen is bound; with the lock off any device works.",
		do: func(c *Console, x *call, ref string, v int64, in actionInput) (simguard.SIM, error) {
			return c.svc.UnbindIMEI(x.ctx, ref, v, simguard.IMEILockMode(in.Mode))
		},
	},
}

type confirmData struct {
	Action  simAction
	Name    string
	SIM     simguard.SIM
	Version int64
	Input   actionInput
	Back    string
}

// simAction asks for confirmation first (a page that repeats the request
// with confirm=yes), then acts. The version the user saw guards the
// change: if someone else changed the SIM meanwhile, nothing happens.
func (c *Console) simAction(x *call) error {
	name := x.r.PathValue("action")
	act, ok := simActionsByName[name]
	if !ok {
		return notFound("there is no SIM action %q", name)
	}
	if !x.s.actor.Role.CanWrite() {
		return simguard.Errorf(simguard.EFORBIDDEN, "role %s may not change SIMs", x.s.actor.Role)
	}
	ref := x.r.PathValue("ref")
	sim, err := c.svc.GetSIM(x.ctx, ref)
	if err != nil {
		return err
	}
	back := basePath + "sims/" + url.PathEscape(sim.ICCID)
	version, err := strconv.ParseInt(x.r.PostFormValue("version"), 10, 64)
	if err != nil || version < 0 {
		return simguard.FieldError("version", "the form lacks the SIM's version; reload the SIM page")
	}
	in := actionInput{For: strings.TrimSpace(x.r.PostFormValue("for")), IMEI: x.r.PostFormValue("imei"), Mode: x.r.PostFormValue("mode")}
	if x.r.PostFormValue("confirm") != "yes" {
		return c.page(x, http.StatusOK, "confirm", act.Title+" SIM "+sim.ICCID+"?", "sims",
			confirmData{Action: act, Name: name, SIM: sim, Version: version, Input: in, Back: back})
	}
	updated, err := act.do(c, x, sim.ICCID, version, in)
	switch simguard.ErrorCode(err) {
	case "":
	case simguard.EPRECONDITION:
		return c.redirect(x, back, "Nothing was changed: the SIM changed since you loaded the page. Review it and try again.", true)
	case simguard.EINVALID, simguard.ECONFLICT:
		return c.redirect(x, back, "Nothing was changed: "+simguard.ErrorMessage(err), true)
	default:
		return err
	}
	msg := fmt.Sprintf("SIM %s %s.", updated.ICCID, act.Done)
	if updated.ActiveUntil != nil && name == "activate" {
		msg = fmt.Sprintf("SIM %s activated until %s.", updated.ICCID, formatTime(*updated.ActiveUntil))
	}
	return c.redirect(x, back, msg, false)
}

// parseDuration reads durations such as "2h", "90m" or "7d"; "" is 0.
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 && days <= 3660 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, simguard.FieldError(field, "must be a duration like 2h, 90m or 7d, got %q", clip(s))
	}
	return d, nil
}

// clip shortens user input before it is echoed back.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
