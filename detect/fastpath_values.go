package detect

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
)

// The value side of the fast path: strings and ints read from the event.

func (c fastCompiler) str(e ast.Expr) strFn {
	switch e.Kind() {
	case ast.LiteralKind:
		s, ok := e.AsLiteral().(types.String)
		if !ok {
			return nil
		}
		return func(*activation) (string, bool) { return string(s), true }
	case ast.IdentKind:
		switch e.AsIdent() {
		case "type":
			return func(act *activation) (string, bool) { return act.ev.Type, true }
		case "source":
			return func(act *activation) (string, bool) { return act.ev.Source, true }
		case "decision":
			return func(act *activation) (string, bool) { return act.ev.Decision, true }
		case "reason":
			return func(act *activation) (string, bool) { return string(act.ev.Reason), true }
		}
	case ast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() || s.Operand().Kind() != ast.IdentKind || s.Operand().AsIdent() != "attrs" {
			return nil
		}
		name := s.FieldName()
		id := attrID(name)
		return func(act *activation) (string, bool) { return act.attr(id, name), true }
	case ast.CallKind:
		call := e.AsCall()
		args := call.Args()
		if call.FunctionName() == operators.Index && len(args) == 2 && args[0].Kind() == ast.IdentKind && args[0].AsIdent() == "attrs" {
			if k, ok := args[1].AsLiteral().(types.String); ok && args[1].Kind() == ast.LiteralKind {
				name := string(k)
				id := attrID(name)
				return func(act *activation) (string, bool) { return act.attr(id, name), true }
			}
		}
		if call.FunctionName() == "substring" && call.IsMemberFunction() && len(args) == 2 {
			return c.substring(call.Target(), args[0], args[1])
		}
	}
	return nil
}

// substring follows ext.Strings: code point indexes, an error when out of
// range or reversed.
func (c fastCompiler) substring(target, from, to ast.Expr) strFn {
	t, f, u := c.str(target), c.integer(from), c.integer(to)
	if t == nil || f == nil || u == nil {
		return nil
	}
	return func(act *activation) (string, bool) {
		s, ok1 := t(act)
		a, ok2 := f(act)
		b, ok3 := u(act)
		if !ok1 || !ok2 || !ok3 {
			return "", false
		}
		n := int64(utf8.RuneCountInString(s))
		if a < 0 || b < a || b > n {
			return "", false
		}
		r := []rune(s)
		return string(r[a:b]), true
	}
}

func (c fastCompiler) integer(e ast.Expr) intFn {
	switch e.Kind() {
	case ast.LiteralKind:
		n, ok := e.AsLiteral().(types.Int)
		if !ok {
			return nil
		}
		return func(*activation) (int64, bool) { return int64(n), true }
	case ast.IdentKind:
		switch e.AsIdent() {
		case "sim":
			return func(act *activation) (int64, bool) { return act.ev.SIMID, true }
		case "tenant":
			return func(act *activation) (int64, bool) { return act.ev.TenantID, true }
		case "id":
			return func(act *activation) (int64, bool) { return act.ev.ID, true }
		}
	case ast.CallKind:
		call := e.AsCall()
		args := call.Args()
		switch {
		case (call.FunctionName() == operators.Add || call.FunctionName() == operators.Subtract) && len(args) == 2:
			l, r := c.integer(args[0]), c.integer(args[1])
			if l == nil || r == nil {
				return nil
			}
			sub := call.FunctionName() == operators.Subtract
			return func(act *activation) (int64, bool) {
				a, aok := l(act)
				b, bok := r(act)
				if !aok || !bok {
					return 0, false
				}
				if sub {
					if b == math.MinInt64 {
						return 0, false
					}
					b = -b
				}
				sum := a + b
				// CEL reports integer overflow as an error.
				if a > 0 && b > 0 && sum < 0 || a < 0 && b < 0 && sum >= 0 {
					return 0, false
				}
				return sum, true
			}
		case call.FunctionName() == "num" && !call.IsMemberFunction() && len(args) == 1:
			s := c.str(args[0])
			if s == nil {
				return nil
			}
			return func(act *activation) (int64, bool) {
				v, ok := s(act)
				if !ok {
					return 0, false
				}
				return parseNum(v), true
			}
		case call.FunctionName() == overloads.Size && call.IsMemberFunction() && len(args) == 0 && c.typeOf(call.Target()) == "string":
			s := c.str(call.Target())
			if s == nil {
				return nil
			}
			return func(act *activation) (int64, bool) {
				v, ok := s(act)
				return int64(utf8.RuneCountInString(v)), ok
			}
		}
	}
	return nil
}

// parseNum is num(): a decimal integer, 0 when the string is not one (as
// strconv.ParseInt of the trimmed string, base 10, would say). It does not
// allocate: strconv's error for an absent attr ("") would, on every event.
func parseNum(s string) int64 {
	s = strings.TrimSpace(s)
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" {
		return 0
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 || n > (math.MaxUint64-uint64(c))/10 {
			return 0
		}
		n = n*10 + uint64(c)
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n)
	case !neg && n <= math.MaxInt64:
		return int64(n)
	}
	return 0
}
