package main

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"slices"
	"sort"
	"strconv"
)

// generate lists the mutants of p's files (only those named in files, if
// any), sorted by file and position.
func generate(p *pkg, files []string, skip *regexp.Regexp) []mutant {
	var out []mutant
	for i, f := range p.files {
		name := p.names[i]
		if files != nil && !slices.Contains(files, name) {
			continue
		}
		g := &gen{p: p, file: name, tf: p.fset.File(f.Pos())}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || g.skipFunc(fd, skip) {
				continue
			}
			g.fn = fd
			g.walk(fd.Body, nil)
		}
		out = append(out, g.out...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out
}

type gen struct {
	p    *pkg
	file string
	tf   *token.File
	fn   *ast.FuncDecl
	out  []mutant
	// anc is the node the next mutants switch on in a schemata build: an
	// expression (evaluated in a closure) or a statement.
	anc ast.Node
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// skipFunc: functions that take a context.Context do I/O; skip names the
// rest of the functions not to mutate.
func (g *gen) skipFunc(fd *ast.FuncDecl, skip *regexp.Regexp) bool {
	if skip.MatchString(funcName(fd)) {
		return true
	}
	for _, f := range fd.Type.Params.List {
		if t := g.p.info.TypeOf(f.Type); t != nil && t.String() == "context.Context" {
			return true
		}
	}
	return false
}

func (g *gen) off(p token.Pos) int { return g.tf.Offset(p) }

func (g *gen) text(n ast.Node) string {
	return string(g.p.src[g.file][g.off(n.Pos()):g.off(n.End())])
}

func (g *gen) add(op string, start, end token.Pos, repl string) {
	s, e := g.off(start), g.off(end)
	m := mutant{p: g.p, file: g.file, line: g.tf.Line(start), start: s, end: e, repl: repl, op: op,
		orig: string(g.p.src[g.file][s:e])}
	if g.anc != nil {
		m.anc = anchor{start: g.off(g.anc.Pos()), end: g.off(g.anc.End())}
		switch a := g.anc.(type) {
		case ast.Stmt:
			m.anc.stmt = true
		case ast.Expr:
			m.anc.typ = g.p.info.TypeOf(a)
		}
	}
	g.out = append(g.out, m)
}

// replace mutates node n to repl.
func (g *gen) replace(op string, n ast.Node, repl string) { g.add(op, n.Pos(), n.End(), repl) }

var (
	boundary = map[token.Token]token.Token{token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR}
	negation = map[token.Token]token.Token{token.LSS: token.GEQ, token.LEQ: token.GTR, token.GTR: token.LEQ, token.GEQ: token.LSS,
		token.EQL: token.NEQ, token.NEQ: token.EQL}
	arith = map[token.Token]token.Token{token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO, token.QUO: token.MUL,
		token.REM: token.MUL}
	opAssign = map[token.Token]token.Token{token.ADD_ASSIGN: token.SUB_ASSIGN, token.SUB_ASSIGN: token.ADD_ASSIGN,
		token.MUL_ASSIGN: token.QUO_ASSIGN, token.QUO_ASSIGN: token.MUL_ASSIGN}
)

func isComparison(e ast.Expr) bool {
	b, ok := ast.Unparen(e).(*ast.BinaryExpr)
	return ok && negation[b.Op] != 0
}

func (g *gen) isNumeric(e ast.Expr) bool {
	t := g.p.info.TypeOf(e)
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsNumeric != 0
}

func (g *gen) isBool(e ast.Expr) bool {
	t := g.p.info.TypeOf(e)
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsBoolean != 0
}

// quiet reports whether call only logs or builds an error or message:
// its arguments are not mutated and dropping it is not a mutant.
func (g *gen) quiet(call *ast.CallExpr) bool {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if s, ok := g.p.info.Selections[sel]; ok {
		t := s.Recv().String()
		return t == "*log/slog.Logger" || t == "log/slog.Logger"
	}
	if obj, ok := g.p.info.Uses[sel.Sel].(*types.Func); ok && obj.Pkg() != nil {
		switch obj.Pkg().Path() + "." + obj.Name() {
		case "fmt.Errorf", "errors.New", "fmt.Sprintf", "fmt.Sprint", "fmt.Fprintf", "fmt.Printf", "log.Printf":
			return true
		}
	}
	return false
}

// walk visits n; parent is its parent node.
func (g *gen) walk(n ast.Node, parent ast.Node) {
	if n == nil {
		return
	}
	switch x := n.(type) {
	case *ast.CallExpr:
		if g.quiet(x) || g.builtin(x, "make") {
			return // a message, or a size hint
		}
		g.call(x)
	case *ast.BinaryExpr:
		g.binary(x)
	case *ast.UnaryExpr:
		if x.Op == token.NOT {
			g.anc = x
			g.replace("not", x, g.text(x.X))
		}
	case *ast.BasicLit:
		g.lit(x, parent)
	case *ast.IfStmt:
		g.cond(x.Cond)
	case *ast.ForStmt:
		if x.Cond != nil {
			g.cond(x.Cond)
		}
		// Dropping the post statement only makes the loop spin until the
		// timeout: walk the rest, not it.
		for _, c := range []ast.Node{x.Init, x.Cond, x.Body} {
			if c != nil {
				g.walk(c, x)
			}
		}
		return
	case *ast.ReturnStmt:
		g.ret(x)
	case *ast.ExprStmt:
		if c, ok := x.X.(*ast.CallExpr); ok && !g.quiet(c) && !g.builtin(c, "panic") && !g.locking(c) {
			g.anc = x
			g.replace("drop", x, "_ = 0")
		}
	case *ast.AssignStmt:
		g.assign(x)
	case *ast.IncDecStmt:
		g.anc = x
		g.replace("drop", x, "_ = 0")
	case *ast.BranchStmt:
		if x.Tok == token.BREAK || x.Tok == token.CONTINUE {
			g.anc = x
			g.replace("drop", x, "_ = 0")
		}
	case *ast.SelectorExpr:
		g.selector(x, parent)
	case *ast.Ident:
		g.param(x, parent)
	}
	for _, c := range children(n) {
		g.walk(c, n)
	}
}

// locking reports whether c locks or unlocks a mutex: dropping one only
// breaks the pairing, which any test notices and none need check.
func (g *gen) locking(c *ast.CallExpr) bool {
	sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	s, ok := g.p.info.Selections[sel]
	if !ok {
		return false
	}
	switch deref(s.Recv()).String() {
	case "sync.Mutex", "sync.RWMutex":
		return true
	}
	return false
}

func (g *gen) builtin(c *ast.CallExpr, name string) bool {
	id, ok := ast.Unparen(c.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	_, isBuiltin := g.p.info.Uses[id].(*types.Builtin)
	return isBuiltin && id.Name == name
}

func (g *gen) call(c *ast.CallExpr) {
	g.anc = c
	if g.builtin(c, "min") {
		g.replace("minmax", c.Fun, "max")
	} else if g.builtin(c, "max") {
		g.replace("minmax", c.Fun, "min")
	}
}

func (g *gen) binary(b *ast.BinaryExpr) {
	g.anc = b
	op := func(name string, to token.Token) {
		g.add(name, b.OpPos, b.OpPos+token.Pos(len(b.Op.String())), to.String())
	}
	if to, ok := boundary[b.Op]; ok {
		op("cmp-boundary", to)
	}
	if to, ok := negation[b.Op]; ok {
		op("cmp-negate", to)
	}
	switch b.Op {
	case token.LAND:
		op("logic", token.LOR)
	case token.LOR:
		op("logic", token.LAND)
	}
	if to, ok := arith[b.Op]; ok && g.isNumeric(b) {
		op("arith", to)
	}
}

// lit: integer literals go one up and one down; a string literal that is
// compared, concatenated or a case is emptied (or filled).
func (g *gen) lit(l *ast.BasicLit, parent ast.Node) {
	g.anc = l
	switch l.Kind {
	case token.INT:
		v, err := strconv.ParseInt(l.Value, 0, 64)
		if err != nil {
			return
		}
		g.replace("int", l, strconv.FormatInt(v+1, 10))
		if v > 0 {
			g.replace("int", l, strconv.FormatInt(v-1, 10))
		} else {
			g.replace("int", l, "-1")
		}
	case token.STRING:
		switch parent.(type) {
		case *ast.BinaryExpr, *ast.CaseClause:
		default:
			return
		}
		if s, err := strconv.Unquote(l.Value); err == nil && s == "" {
			g.replace("string", l, `"x"`)
		} else {
			g.replace("string", l, `""`)
		}
	}
}

// cond negates a condition that is not a comparison (comparisons are
// negated by their operator) nor a !x (which "not" undoes).
func (g *gen) cond(c ast.Expr) {
	if isComparison(c) {
		return
	}
	if u, ok := ast.Unparen(c).(*ast.UnaryExpr); ok && u.Op == token.NOT {
		return
	}
	g.anc = c
	g.replace("cond", c, "!("+g.text(c)+")")
}

func (g *gen) ret(r *ast.ReturnStmt) {
	for _, e := range r.Results {
		if !g.isBool(e) {
			continue
		}
		g.anc = e
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			switch x.Name {
			case "true":
				g.replace("bool-return", e, "false")
				continue
			case "false":
				g.replace("bool-return", e, "true")
				continue
			}
		case *ast.UnaryExpr:
			if x.Op == token.NOT {
				continue // "not"
			}
		}
		if isComparison(e) {
			continue
		}
		g.replace("bool-return", e, "!("+g.text(e)+")")
	}
}

// assign: x = v becomes _ = v (the value is still computed, the store is
// dropped); x op= v becomes _ = v and the operator swaps.
func (g *gen) assign(a *ast.AssignStmt) {
	if a.Tok == token.DEFINE {
		return
	}
	g.anc = a
	allBlank := true
	for _, l := range a.Lhs {
		if id, ok := l.(*ast.Ident); !ok || id.Name != "_" {
			allBlank = false
		}
	}
	if allBlank {
		return // _ = v: nothing to drop
	}
	if to, ok := opAssign[a.Tok]; ok && g.isNumeric(a.Lhs[0]) {
		g.add("arith", a.TokPos, a.TokPos+token.Pos(len(a.Tok.String())), to.String())
	}
	blanks := "_"
	for range a.Lhs[1:] {
		blanks += ", _"
	}
	rhs := ""
	for i, e := range a.Rhs {
		if i > 0 {
			rhs += ", "
		}
		rhs += g.text(e)
	}
	g.replace("drop", a, blanks+" = "+rhs)
}

// selector swaps a field for another field of the same struct and type, or
// a method for another of the same receiver and signature. Only the
// module's own types (not a library's) are swapped.
func (g *gen) selector(s *ast.SelectorExpr, parent ast.Node) {
	g.anc = s
	if c, ok := parent.(*ast.CallExpr); ok && c.Fun == s {
		g.anc = c
	}
	sel, ok := g.p.info.Selections[s]
	if !ok {
		return
	}
	obj := sel.Obj()
	if obj.Pkg() == nil || obj.Pkg() != g.p.tpkg {
		return
	}
	switch sel.Kind() {
	case types.FieldVal:
		st, ok := deref(sel.Recv()).Underlying().(*types.Struct)
		if !ok || len(sel.Index()) != 1 {
			return
		}
		for i := range st.NumFields() {
			f := st.Field(i)
			if f != obj && types.Identical(f.Type(), obj.Type()) && !f.Embedded() {
				g.replace("field", s.Sel, f.Name())
			}
		}
	case types.MethodVal:
		ms := types.NewMethodSet(sel.Recv())
		for i := range ms.Len() {
			m := ms.At(i).Obj()
			if m != obj && m.Pkg() == g.p.tpkg && types.Identical(m.Type(), obj.Type()) {
				g.replace("method", s.Sel, m.Name())
			}
		}
	}
}

func deref(t types.Type) types.Type {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// param swaps a use of a parameter for another parameter of the same type
// of the enclosing function declaration.
func (g *gen) param(id *ast.Ident, parent ast.Node) {
	v, ok := g.p.info.Uses[id].(*types.Var)
	if !ok || v.IsField() {
		return
	}
	if s, ok := parent.(*ast.SelectorExpr); ok && s.Sel == id {
		return
	}
	var params []*types.Var
	for _, f := range g.fn.Type.Params.List {
		for _, n := range f.Names {
			if pv, ok := g.p.info.Defs[n].(*types.Var); ok {
				params = append(params, pv)
			}
		}
	}
	if !slices.Contains(params, v) {
		return
	}
	g.anc = id
	for _, o := range params {
		if o != v && o.Name() != "_" && types.Identical(o.Type(), v.Type()) {
			g.replace("param", id, o.Name())
		}
	}
}

// children are n's direct children, in source order.
func children(n ast.Node) []ast.Node {
	var out []ast.Node
	first := true
	ast.Inspect(n, func(c ast.Node) bool {
		if first {
			first = false
			return true
		}
		if c != nil {
			out = append(out, c)
		}
		return false
	})
	return out
}
