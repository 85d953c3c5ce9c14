package detect

import (
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/simguard/simguard"
)

// keyField is one event field a rule groups by or tracks.
type keyField struct {
	name string // as written: "sim", "imei", "attrs.dst"
	kind fieldKind
	attr string // kind fieldAttr
	id   int32  // kind fieldAttr: attrID(attr)
}

type fieldKind uint8

const (
	fieldNone fieldKind = iota
	fieldSIM
	fieldTenant
	fieldType
	fieldSource
	fieldDecision
	fieldReason
	fieldAttr
)

// builtinFields are the event fields that are not attrs.
var builtinFields = map[string]fieldKind{
	"sim": fieldSIM, "tenant": fieldTenant, "type": fieldType, "source": fieldSource,
	"decision": fieldDecision, "reason": fieldReason,
}

// parseField reads a field name. A bare name that is not an event field
// is an attr ("imei" is attrs["imei"]); "attrs.x" says so explicitly.
func parseField(s string) (keyField, bool) {
	if k, ok := builtinFields[s]; ok {
		return keyField{name: s, kind: k}, true
	}
	a := strings.TrimPrefix(s, "attrs.")
	if a == "" || len(a) > 64 {
		return keyField{}, false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return keyField{}, false
		}
	}
	return keyField{name: s, kind: fieldAttr, attr: a, id: attrID(a)}, true
}

// str returns the field's value in ev; "" means absent. It does not
// allocate except for the SIM and tenant numbers, which key() avoids.
func (f keyField) str(ev *simguard.Event) string {
	switch f.kind {
	case fieldSIM:
		if ev.SIMID == 0 {
			return ""
		}
		return strconv.FormatInt(ev.SIMID, 10)
	case fieldTenant:
		return strconv.FormatInt(ev.TenantID, 10)
	case fieldType:
		return ev.Type
	case fieldSource:
		return ev.Source
	case fieldDecision:
		return ev.Decision
	case fieldReason:
		return string(ev.Reason)
	case fieldAttr:
		return ev.Attrs[f.attr]
	}
	return ""
}

// stateKey identifies a rule's state: the tenant (always part of the key,
// so that tenants never share counters) and up to three group-by values.
// Numbers go into n, strings into s; building it does not allocate.
type stateKey struct {
	tenant int64
	n      int64
	s      [maxGroupBy]string
}

const maxGroupBy = 3

// shardSeed is the same for every detector of the process, so that all
// shards agree on who owns a key.
var shardSeed = maphash.MakeSeed()

// shard says which of n shards owns k.
func (k *stateKey) shard(n uint64) uint64 {
	h := uint64(k.tenant)*0x9e3779b97f4a7c15 ^ uint64(k.n)*0xc2b2ae3d27d4eb4f
	for _, s := range k.s {
		if s != "" {
			h = h*0x100000001b3 ^ maphash.String(shardSeed, s)
		}
	}
	return mix(h) % n
}

// key builds the state key of ev for r. ok is false when a group-by field
// is absent from the event: the rule does not apply to it.
func (r *Rule) key(act *activation) (k stateKey, ok bool) {
	ev := act.ev
	k.tenant = ev.TenantID
	si := 0
	for _, f := range r.keyFields {
		switch f.kind {
		case fieldSIM:
			if ev.SIMID == 0 {
				return k, false
			}
			k.n = ev.SIMID
		case fieldTenant:
			// Always part of the key.
		default:
			v := act.field(f)
			if v == "" {
				return k, false
			}
			k.s[si] = v
			si++
		}
	}
	return k, true
}

// render writes the key for people: "sim=42,imei=35209900176148"; "" for
// a rule without group_by (one key per tenant).
func (r *Rule) render(k stateKey) string {
	if len(r.keyFields) == 0 {
		return ""
	}
	var b strings.Builder
	si := 0
	for i, f := range r.keyFields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.name)
		b.WriteByte('=')
		switch f.kind {
		case fieldSIM:
			b.WriteString(strconv.FormatInt(k.n, 10))
		case fieldTenant:
			b.WriteString(strconv.FormatInt(k.tenant, 10))
		default:
			b.WriteString(k.s[si])
			si++
		}
	}
	return b.String()
}
