package main

import (
	"fmt"
	"go/parser"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A schemata build compiles every mutant of a package into one test
// binary, each behind a switch on its number (read from $STRAIT_MUTANT),
// and runs the binary once per mutant: one build instead of one per
// mutant. A mutated expression is evaluated in a closure,
//
//	func() T { switch mutant { case 7: return a <= b; case 8: return a >= b }; return a < b }()
//
// and a mutated statement sits in an if/else chain. Mutants whose anchor
// cannot be switched that way (an assigned field, a type no import of the
// file names) are tested one build each, as without schemata.

// anchor is the node a mutant switches on.
type anchor struct {
	start, end int
	stmt       bool
	typ        types.Type // of an expression; nil for a statement
}

const mutantVar, mutantEnv = "strait_mutant_", "STRAIT_MUTANT"

// node is an anchor with its mutants and the anchors inside it.
type node struct {
	anchor
	muts     []mutant
	children []*node
}

// schemata returns the source of file with the mutants ms switched in.
func schemata(p *pkg, file string, ms []mutant) ([]byte, error) {
	src := p.src[file]
	byAnchor := map[[3]int]*node{}
	var nodes []*node
	for _, m := range ms {
		k := [3]int{m.anc.start, m.anc.end, 0}
		if m.anc.stmt {
			k[2] = 1
		}
		n := byAnchor[k]
		if n == nil {
			n = &node{anchor: m.anc}
			byAnchor[k] = n
			nodes = append(nodes, n)
		}
		n.muts = append(n.muts, m)
	}
	// Outer anchors first: by start, then longest, statements before the
	// expression they consist of.
	sort.Slice(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if a.start != b.start {
			return a.start < b.start
		}
		if a.end != b.end {
			return a.end > b.end
		}
		return a.stmt && !b.stmt
	})
	var roots []*node
	var stack []*node
	for _, n := range nodes {
		for len(stack) > 0 && stack[len(stack)-1].end <= n.start {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if n.end > top.end {
				return nil, fmt.Errorf("%s: anchors overlap at %d", file, n.start)
			}
			top.children = append(top.children, n)
		} else {
			roots = append(roots, n)
		}
		stack = append(stack, n)
	}
	q := qualifier(p, file)
	var b strings.Builder
	if err := renderRange(&b, src, 0, len(src), roots, q); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func renderRange(b *strings.Builder, src []byte, start, end int, children []*node, q types.Qualifier) error {
	at := start
	for _, c := range children {
		b.Write(src[at:c.start])
		if err := render(b, src, c, q); err != nil {
			return err
		}
		at = c.end
	}
	b.Write(src[at:end])
	return nil
}

// mutated is n's source with m applied and the anchors inside left as
// they are: only one mutant is on at a time.
func mutated(src []byte, n *node, m mutant) string {
	return string(src[n.start:m.start]) + m.repl + string(src[m.end:n.end])
}

func render(b *strings.Builder, src []byte, n *node, q types.Qualifier) error {
	var orig strings.Builder
	if err := renderRange(&orig, src, n.start, n.end, n.children, q); err != nil {
		return err
	}
	if n.stmt {
		for i, m := range n.muts {
			if i > 0 {
				b.WriteString(" else ")
			}
			fmt.Fprintf(b, "if %s == %d {\n%s\n}", mutantVar, m.id, mutated(src, n, m))
		}
		fmt.Fprintf(b, " else {\n%s\n}", orig.String())
		return nil
	}
	if n.typ == nil {
		return fmt.Errorf("expression without a type")
	}
	void := false
	var typ string
	switch t := n.typ.(type) {
	case *types.Tuple:
		if t.Len() == 0 {
			void = true
			break
		}
		var parts []string
		for i := range t.Len() {
			parts = append(parts, types.TypeString(t.At(i).Type(), q))
		}
		typ = "(" + strings.Join(parts, ", ") + ")"
	default:
		typ = types.TypeString(types.Default(t), q)
	}
	if void {
		fmt.Fprintf(b, "func() { switch %s {", mutantVar)
		for _, m := range n.muts {
			fmt.Fprintf(b, "\ncase %d:\n%s\nreturn", m.id, mutated(src, n, m))
		}
		fmt.Fprintf(b, "\n}\n%s\n}()", orig.String())
		return nil
	}
	fmt.Fprintf(b, "func() %s { switch %s {", typ, mutantVar)
	for _, m := range n.muts {
		fmt.Fprintf(b, "\ncase %d:\nreturn %s", m.id, mutated(src, n, m))
	}
	fmt.Fprintf(b, "\n}\nreturn %s\n}()", orig.String())
	return nil
}

// qualifier names packages as file imports them; a package it does not
// import gets a name that does not compile, which sends the mutant to a
// build of its own.
func qualifier(p *pkg, file string) types.Qualifier {
	names := map[string]string{}
	for i, n := range p.names {
		if n != file {
			continue
		}
		for _, im := range p.files[i].Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			if im.Name != nil {
				names[path] = im.Name.Name
			} else if pk := importedPkg(p, path); pk != nil {
				names[path] = pk.Name()
			}
		}
	}
	return func(pk *types.Package) string {
		if pk == p.tpkg {
			return ""
		}
		if n, ok := names[pk.Path()]; ok {
			return n
		}
		return "not_imported_" + strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(pk.Path())
	}
}

func importedPkg(p *pkg, path string) *types.Package {
	for _, im := range p.tpkg.Imports() {
		if im.Path() == path {
			return im
		}
	}
	return nil
}

const mutantFile = "zz_strait_mutant.go"

func mutantDecl(p *pkg) []byte {
	return fmt.Appendf(nil, "package %s\n\nimport (\n\tmutos_ \"os\"\n\tmutstrconv_ \"strconv\"\n)\n\nvar %s, _ = mutstrconv_.Atoi(mutos_.Getenv(%q))\n",
		p.tpkg.Name(), mutantVar, mutantEnv)
}

// checkSchemata type-checks p with files replaced by their schemata
// sources.
func (p *pkg) checkSchemata(srcs map[string][]byte) error {
	files := slices.Clone(p.files)
	for i, name := range p.names {
		if src, ok := srcs[name]; ok {
			f, err := parser.ParseFile(p.fset, name, src, 0)
			if err != nil {
				return err
			}
			files[i] = f
		}
	}
	decl, err := parser.ParseFile(p.fset, mutantFile, mutantDecl(p), 0)
	if err != nil {
		return err
	}
	files = append(files, decl)
	var first error
	conf := types.Config{Importer: p.imp, Error: func(e error) {
		if first == nil {
			first = e
		}
	}}
	conf.Check(p.path, p.fset, files, nil)
	return first
}

// splitSchemata numbers ms and returns those that a schemata build carries,
// with the sources it needs; the others need builds of their own.
func (p *pkg) splitSchemata(ms []mutant) (in []mutant, srcs map[string][]byte, alone []mutant) {
	for i := range ms {
		ms[i].id = i + 1
	}
	byFile := map[string][]mutant{}
	for _, m := range ms {
		byFile[m.file] = append(byFile[m.file], m)
	}
	// All at once, which usually works; if not, anchor by anchor, to find
	// the ones that cannot be switched.
	if in, srcs, ok := p.allSchemata(ms); ok {
		return in, srcs, nil
	}
	ok := map[int]bool{}
	for file, fms := range byFile {
		groups := map[anchor][]mutant{}
		var order []anchor
		for _, m := range fms {
			key := anchor{start: m.anc.start, end: m.anc.end, stmt: m.anc.stmt}
			if _, seen := groups[key]; !seen {
				order = append(order, key)
			}
			groups[key] = append(groups[key], m)
		}
		for _, key := range order {
			g := groups[key]
			if g[0].anc.end == 0 {
				continue
			}
			src, err := schemata(p, file, g)
			if err == nil {
				err = p.checkSchemata(map[string][]byte{file: src})
			}
			for _, m := range g {
				ok[m.id] = err == nil
			}
		}
	}
	for _, m := range ms {
		if ok[m.id] {
			in = append(in, m)
		} else {
			alone = append(alone, m)
		}
	}
	// Then all together; if they do not go together, none does.
	srcs = map[string][]byte{}
	byFile = map[string][]mutant{}
	for _, m := range in {
		byFile[m.file] = append(byFile[m.file], m)
	}
	for file, fms := range byFile {
		src, err := schemata(p, file, fms)
		if err != nil {
			return nil, nil, ms
		}
		srcs[file] = src
	}
	if err := p.checkSchemata(srcs); err != nil {
		fmt.Fprintf(os.Stderr, "%s: schemata do not type-check together (%v); one build per mutant\n", p.rel, err)
		return nil, nil, ms
	}
	return in, srcs, alone
}

// buildSchemata writes srcs into the copy at work and builds the test
// binary; restore puts the sources back.
func (p *pkg) buildSchemata(work string, srcs map[string][]byte) (bin string, restore func(), err error) {
	dir := filepath.Join(work, p.rel)
	restore = func() {
		for name := range srcs {
			os.WriteFile(filepath.Join(dir, name), p.src[name], 0o644)
		}
		os.Remove(filepath.Join(dir, mutantFile))
	}
	for name, src := range srcs {
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			return "", restore, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, mutantFile), mutantDecl(p), 0o644); err != nil {
		return "", restore, err
	}
	bin = filepath.Join(work, "mutants-"+strings.NewReplacer("/", "_", ".", "_").Replace(p.rel)+".test")
	cmd := exec.Command("go", "test", "-c", "-vet=off", "-o", bin, p.rel)
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", restore, fmt.Errorf("build schemata of %s: %w\n%s", p.rel, err, out)
	}
	return bin, restore, nil
}

// runBinary runs a schemata test binary with mutant id switched on.
func runBinary(work, rel, bin string, id int, run string, timeout time.Duration) (result, error) {
	args := []string{"-test.count=1", "-test.failfast", "-test.timeout=" + timeout.String()}
	if run != "" {
		args = append(args, "-test.run="+run)
	}
	return runCmd(exec.Command(bin, args...), filepath.Join(work, rel), []string{mutantEnv + "=" + strconv.Itoa(id)}, timeout)
}

func (p *pkg) allSchemata(ms []mutant) ([]mutant, map[string][]byte, bool) {
	byFile := map[string][]mutant{}
	for _, m := range ms {
		if m.anc.end == 0 {
			return nil, nil, false
		}
		byFile[m.file] = append(byFile[m.file], m)
	}
	srcs := map[string][]byte{}
	for file, fms := range byFile {
		src, err := schemata(p, file, fms)
		if err != nil {
			return nil, nil, false
		}
		srcs[file] = src
	}
	if p.checkSchemata(srcs) != nil {
		return nil, nil, false
	}
	return ms, srcs, true
}
