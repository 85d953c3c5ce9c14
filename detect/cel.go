package detect

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	"github.com/simguard/simguard"
)

// Limits on user-written expressions. Rules are written by admins, but a
// typo must not be able to stall the engine.
const (
	maxExprLen  = 4096
	maxExprCost = 1_000_000 // estimated CEL cost units per evaluation
)

// newCELEnv declares what a condition sees: the event's fields as
// variables (type, source, decision, reason, sim, tenant, id, time) and its
// attrs as a map in which a missing attr reads as "" (test presence with
// `"imei" in attrs`). Helpers: num(s) parses a decimal (0 when it is not
// one), in_cidr(ip, cidr), and the ext.Strings library.
func newCELEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("type", cel.StringType),
		cel.Variable("source", cel.StringType),
		cel.Variable("decision", cel.StringType),
		cel.Variable("reason", cel.StringType),
		cel.Variable("sim", cel.IntType),
		cel.Variable("tenant", cel.IntType),
		cel.Variable("id", cel.IntType),
		cel.Variable("time", cel.TimestampType),
		cel.Variable("attrs", cel.MapType(cel.StringType, cel.StringType)),
		ext.Strings(),
		cel.Function("num",
			cel.Overload("num_string", []*cel.Type{cel.StringType}, cel.IntType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, _ := v.(types.String)
					n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
					if err != nil {
						return types.IntZero
					}
					return types.Int(n)
				}))),
		cel.Function("in_cidr",
			cel.Overload("in_cidr_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(ip, cidr ref.Val) ref.Val {
					is, _ := ip.(types.String)
					cs, _ := cidr.(types.String)
					a, err1 := netip.ParseAddr(string(is))
					p, err2 := netip.ParsePrefix(string(cs))
					if err1 != nil || err2 != nil {
						return types.False
					}
					return types.Bool(p.Contains(a.Unmap()))
				}))),
		cel.ParserExpressionSizeLimit(maxExprLen),
		cel.ParserRecursionLimit(64),
	)
}

// expr is a compiled expression: the CEL program, and the same expression
// as Go closures when it is within the fast path's subset.
type expr struct {
	prg     cel.Program
	fastB   boolFn
	fastInt intFn
}

// compileExpr compiles src to an expression whose result has one of the
// wanted types.
func compileExpr(env *cel.Env, src string, want ...*cel.Type) (*expr, error) {
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("longer than %d characters", maxExprLen)
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("does not compile: %s", strings.TrimSpace(iss.Err().Error()))
	}
	ok := false
	for _, w := range want {
		if ast.OutputType().IsExactType(w) {
			ok = true
		}
	}
	if !ok {
		names := make([]string, len(want))
		for i, w := range want {
			names[i] = w.String()
		}
		return nil, fmt.Errorf("must give %s, gives %s", strings.Join(names, " or "), ast.OutputType())
	}
	// The cost is bounded when the rule loads, from the expression and
	// bounds on event sizes, rather than tracked on every evaluation,
	// which would cost more than most conditions themselves.
	est, err := env.EstimateCost(ast, sizeBounds{})
	if err != nil {
		return nil, fmt.Errorf("cannot be costed: %v", err)
	}
	if est.Max == math.MaxUint64 {
		return nil, errors.New("cannot be bounded in cost (nested loops over attrs, or a substring range that is always out of bounds); simplify it")
	}
	if est.Max > maxExprCost {
		return nil, fmt.Errorf("is too costly (up to %d steps per event, at most %d allowed); avoid nested loops over attrs", est.Max, maxExprCost)
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("cannot be prepared: %v", err)
	}
	x := &expr{prg: prg}
	if ast.OutputType().IsExactType(cel.BoolType) {
		x.fastB = fastCondition(ast.NativeRep())
	} else {
		x.fastInt = fastNumber(ast.NativeRep())
	}
	return x, nil
}

// sizeBounds tells the cost estimator how large event values can be for
// the purpose of bounding a rule's cost: attrs hold at most maxAttrs
// entries of at most maxAttrLen characters.
type sizeBounds struct{}

const (
	maxAttrs   = 64
	maxAttrLen = 1024
)

func (sizeBounds) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	p := n.Path()
	if len(p) == 0 {
		return nil
	}
	if p[0] == "attrs" && len(p) == 1 {
		return &checker.SizeEstimate{Min: 0, Max: maxAttrs}
	}
	return &checker.SizeEstimate{Min: 0, Max: maxAttrLen}
}

func (sizeBounds) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// activation exposes one event to CEL. The detector reuses one for every
// event, so that resolving variables allocates as little as possible.
type activation struct {
	ev    *simguard.Event
	attrs attrMap
	// cache holds the attrs the rules read of the current event, by attr
	// ID: with many rules over the same event, each attr is looked up in
	// the event's map once instead of once per rule.
	cache []cachedAttr
	gen   uint32 // cache entries of other generations are stale
}

type cachedAttr struct {
	gen uint32
	v   string
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) set(ev *simguard.Event) {
	a.ev = ev
	a.attrs.m = ev.Attrs
	if a.gen++; a.gen == 0 {
		clear(a.cache)
		a.gen = 1
	}
	if n := int(attrIDs.n.Load()); len(a.cache) < n {
		a.cache = append(a.cache, make([]cachedAttr, n-len(a.cache))...)
	}
}

// reset lets go of the event.
func (a *activation) reset() {
	a.ev, a.attrs.m = nil, nil
}

// attr returns the event's attr name, whose ID is id; "" when absent.
func (a *activation) attr(id int32, name string) string {
	if int(id) >= len(a.cache) {
		return a.ev.Attrs[name]
	}
	c := &a.cache[id]
	if c.gen != a.gen {
		c.gen, c.v = a.gen, a.ev.Attrs[name]
	}
	return c.v
}

// field returns f's value in the event; "" means absent.
func (a *activation) field(f keyField) string {
	if f.kind == fieldAttr {
		return a.attr(f.id, f.attr)
	}
	return f.str(a.ev)
}

// attrIDs numbers the attr names rules read, for activation.cache. It
// only grows, with the distinct names in loaded rules.
var attrIDs = struct {
	mu  sync.Mutex
	ids map[string]int32
	n   atomic.Int32
}{ids: map[string]int32{}}

func attrID(name string) int32 {
	attrIDs.mu.Lock()
	defer attrIDs.mu.Unlock()
	id, ok := attrIDs.ids[name]
	if !ok {
		id = int32(len(attrIDs.ids))
		attrIDs.ids[name] = id
		attrIDs.n.Store(id + 1)
	}
	return id
}

func (a *activation) ResolveName(name string) (any, bool) {
	ev := a.ev
	switch name {
	case "type":
		return types.String(ev.Type), true
	case "source":
		return types.String(ev.Source), true
	case "decision":
		return types.String(ev.Decision), true
	case "reason":
		return types.String(ev.Reason), true
	case "sim":
		return types.Int(ev.SIMID), true
	case "tenant":
		return types.Int(ev.TenantID), true
	case "id":
		return types.Int(ev.ID), true
	case "time":
		return types.Timestamp{Time: ev.Time}, true
	case "attrs":
		return &a.attrs, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// attrMap is a CEL map over an event's attrs in which a missing key reads
// as "", so that `attrs.port == "23"` is simply false for an event without
// a port instead of an evaluation error.
type attrMap struct {
	m map[string]string
}

var _ traits.Mapper = (*attrMap)(nil)

func (a *attrMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return types.ValOrErr(key, "no such overload"), false
	}
	return types.String(a.m[string(k)]), true
}

func (a *attrMap) Get(key ref.Val) ref.Val {
	v, _ := a.Find(key)
	return v
}

func (a *attrMap) Contains(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.ValOrErr(key, "no such overload")
	}
	_, found := a.m[string(k)]
	return types.Bool(found)
}

// The rarely used operations go through cel-go's own map over a copy of
// the attrs: the activation is reused, so nothing may keep a.m.
func (a *attrMap) std() traits.Mapper {
	c := make(map[string]string, len(a.m))
	for k, v := range a.m {
		c[k] = v
	}
	return types.NewStringStringMap(types.DefaultTypeAdapter, c)
}

func (a *attrMap) Iterator() traits.Iterator { return a.std().Iterator() }
func (a *attrMap) Size() ref.Val             { return types.Int(len(a.m)) }
func (a *attrMap) ConvertToNative(t reflect.Type) (any, error) {
	return a.std().ConvertToNative(t)
}
func (a *attrMap) ConvertToType(t ref.Type) ref.Val { return a.std().ConvertToType(t) }
func (a *attrMap) Equal(other ref.Val) ref.Val      { return a.std().Equal(other) }
func (a *attrMap) Type() ref.Type                   { return types.MapType }
func (a *attrMap) Value() any                       { return a.m }

// evalBool runs a condition; an evaluation error counts as "no match".
func evalBool(x *expr, act *activation) (bool, error) {
	if x.fastB != nil {
		if v, ok := x.fastB(act); ok {
			return v, nil
		}
		// Rare: let CEL say what the error is.
	}
	out, _, err := x.prg.Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition gave %s, not a bool", out.Type())
	}
	return bool(b), nil
}

// evalNumber runs a baseline value expression.
func evalNumber(x *expr, act *activation) (float64, error) {
	if x.fastInt != nil {
		if v, ok := x.fastInt(act); ok {
			return float64(v), nil
		}
	}
	out, _, err := x.prg.Eval(act)
	if err != nil {
		return 0, err
	}
	switch v := out.(type) {
	case types.Int:
		return float64(v), nil
	case types.Uint:
		return float64(v), nil
	case types.Double:
		return float64(v), nil
	}
	return 0, fmt.Errorf("value is %s, not a number", out.Type())
}

func celBool() *cel.Type { return cel.BoolType }

func celInt() *cel.Type { return cel.IntType }
