package detect

import (
	"strings"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
)

// Most conditions are comparisons of event fields and attrs with
// constants, joined by && and ||. Evaluating those through the CEL
// interpreter costs far more than the comparisons (boxing every value,
// resolving names); the fast path compiles that subset of the checked
// expression into Go closures and leaves everything else to CEL. Each
// closure returns ok=false where CEL would produce an error, and the
// logical operators treat errors as CEL does (false && error is false,
// true || error is true), so both paths give the same answer; a test runs
// them side by side.

type (
	boolFn func(*activation) (v, ok bool)
	strFn  func(*activation) (v string, ok bool)
	intFn  func(*activation) (v int64, ok bool)
)

// fastCondition compiles a checked boolean expression, or returns nil when
// it uses anything outside the subset.
func fastCondition(a *ast.AST) boolFn {
	c := fastCompiler{a: a}
	return c.boolean(a.Expr())
}

// fastNumber compiles a checked int expression, or returns nil.
func fastNumber(a *ast.AST) intFn {
	if a.GetType(a.Expr().ID()).String() != "int" {
		return nil
	}
	c := fastCompiler{a: a}
	return c.integer(a.Expr())
}

type fastCompiler struct {
	a *ast.AST
}

func (c fastCompiler) typeOf(e ast.Expr) string {
	return c.a.GetType(e.ID()).String()
}

func (c fastCompiler) boolean(e ast.Expr) boolFn {
	switch e.Kind() {
	case ast.LiteralKind:
		b, ok := e.AsLiteral().(types.Bool)
		if !ok {
			return nil
		}
		return func(*activation) (bool, bool) { return bool(b), true }
	case ast.CallKind:
	default:
		return nil
	}
	call := e.AsCall()
	args := call.Args()
	fn := call.FunctionName()
	switch {
	case fn == operators.LogicalAnd && len(args) == 2:
		l, r := c.boolean(args[0]), c.boolean(args[1])
		if l == nil || r == nil {
			return nil
		}
		return func(act *activation) (bool, bool) {
			lv, lok := l(act)
			if lok && !lv {
				return false, true
			}
			rv, rok := r(act)
			if rok && !rv {
				return false, true
			}
			return true, lok && rok
		}
	case fn == operators.LogicalOr && len(args) == 2:
		l, r := c.boolean(args[0]), c.boolean(args[1])
		if l == nil || r == nil {
			return nil
		}
		return func(act *activation) (bool, bool) {
			lv, lok := l(act)
			if lok && lv {
				return true, true
			}
			rv, rok := r(act)
			if rok && rv {
				return true, true
			}
			return false, lok && rok
		}
	case fn == operators.LogicalNot && len(args) == 1:
		x := c.boolean(args[0])
		if x == nil {
			return nil
		}
		return func(act *activation) (bool, bool) {
			v, ok := x(act)
			return !v, ok
		}
	case fn == operators.In && len(args) == 2:
		return c.in(args[0], args[1])
	case isComparison(fn) && len(args) == 2:
		return c.compare(fn, args[0], args[1])
	case call.IsMemberFunction() && len(args) == 1 &&
		(fn == overloads.StartsWith || fn == overloads.EndsWith || fn == overloads.Contains):
		t, a := c.str(call.Target()), c.str(args[0])
		if t == nil || a == nil {
			return nil
		}
		op := map[string]func(string, string) bool{
			overloads.StartsWith: strings.HasPrefix, overloads.EndsWith: strings.HasSuffix, overloads.Contains: strings.Contains,
		}[fn]
		return func(act *activation) (bool, bool) {
			tv, tok := t(act)
			av, aok := a(act)
			return tok && aok && op(tv, av), tok && aok
		}
	}
	return nil
}

func isComparison(fn string) bool {
	switch fn {
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		return true
	}
	return false
}

func (c fastCompiler) compare(fn string, a, b ast.Expr) boolFn {
	ta, tb := c.typeOf(a), c.typeOf(b)
	switch {
	case ta == "string" && tb == "string":
		l, r := c.str(a), c.str(b)
		if l == nil || r == nil {
			return nil
		}
		return func(act *activation) (bool, bool) {
			lv, lok := l(act)
			rv, rok := r(act)
			if !lok || !rok {
				return false, false
			}
			return cmpResult(fn, strings.Compare(lv, rv)), true
		}
	case ta == "int" && tb == "int":
		l, r := c.integer(a), c.integer(b)
		if l == nil || r == nil {
			return nil
		}
		return func(act *activation) (bool, bool) {
			lv, lok := l(act)
			rv, rok := r(act)
			if !lok || !rok {
				return false, false
			}
			d := 0
			if lv < rv {
				d = -1
			} else if lv > rv {
				d = 1
			}
			return cmpResult(fn, d), true
		}
	}
	return nil
}

func cmpResult(fn string, d int) bool {
	switch fn {
	case operators.Equals:
		return d == 0
	case operators.NotEquals:
		return d != 0
	case operators.Less:
		return d < 0
	case operators.LessEquals:
		return d <= 0
	case operators.Greater:
		return d > 0
	}
	return d >= 0
}

// in handles `x in [constants]` for strings and ints.
func (c fastCompiler) in(x, list ast.Expr) boolFn {
	if list.Kind() != ast.ListKind {
		return nil
	}
	switch c.typeOf(x) {
	case "string":
		v := c.str(x)
		set := map[string]bool{}
		for _, el := range list.AsList().Elements() {
			s, ok := el.AsLiteral().(types.String)
			if el.Kind() != ast.LiteralKind || !ok {
				return nil
			}
			set[string(s)] = true
		}
		if v == nil {
			return nil
		}
		return func(act *activation) (bool, bool) {
			s, ok := v(act)
			return ok && set[s], ok
		}
	case "int":
		v := c.integer(x)
		set := map[int64]bool{}
		for _, el := range list.AsList().Elements() {
			n, ok := el.AsLiteral().(types.Int)
			if el.Kind() != ast.LiteralKind || !ok {
				return nil
			}
			set[int64(n)] = true
		}
		if v == nil {
			return nil
		}
		return func(act *activation) (bool, bool) {
			n, ok := v(act)
			return ok && set[n], ok
		}
	}
	return nil
}
