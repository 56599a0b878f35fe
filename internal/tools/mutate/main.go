// Command mutate is Strait's mutation tester for its pure packages. It
// applies one small semantic change (a mutant) at a time to a package's
// source, in a copy of the module, and runs that package's tests: a mutant
// the tests notice is killed, one they do not survives. Survivors are
// either equivalent to the original or a test worth writing; the reviewed
// list is kept in SURVIVORS.md beside this file.
//
//	go run ./internal/tools/mutate                      # the default packages
//	go run ./internal/tools/mutate -pkg ./policy,./checkpoint
//	go run ./internal/tools/mutate -pkg './replicator=assign.go+retry.go@^TestAssign'
//	go run ./internal/tools/mutate -short               # only the mutants of the one build per package
//	go run ./internal/tools/mutate -sample 40           # a seeded sample of 40 mutants per package
//	go run ./internal/tools/mutate -list -match 'store.go'
//
// Mutants are made on the typed syntax tree (go/ast, go/types with the
// dependencies' export data from `go list -export`), only inside function
// bodies, never in functions that take a context.Context (those do I/O and
// are tested against kfake clusters, not here) nor in calls that only log
// or build an error message. A mutant that does not type-check is dropped
// before any test runs. Operators:
//
//	cmp-boundary  < <=, > >=              cmp-negate   == !=, < >=, ...
//	logic         && ||                   not          !x -> x
//	cond          if c -> if !(c)          arith        + -, * /, % *
//	int           n -> n+1, n-1           bool-return  return b -> !b, true false
//	drop          remove a call, assignment (x = v -> _ = v), ++/--, break/continue
//	field         s.a -> s.b (same struct, same type)
//	method        x.m() -> x.n() (same receiver, same signature)
//	param         p -> q (parameters of the function, same type)
//	minmax        min <-> max             string       "s" -> "", "" -> "x" (compared or concatenated)
//
// Operators are swapped in the source text, so a swapped || in a chain of
// them parses with Go's precedence: a || b || c becomes a || (b && c).
// Mutants are tested in a copy of the module taken at start, so the tree
// being edited is never touched. A package's mutants are compiled into one
// test binary, each behind a switch (schemata.go), and the binary runs once
// per mutant with -test.failfast: one build per package instead of one per
// mutant. The few mutants a switch cannot carry (an assigned field swapped,
// say) get `go test` on a copy with just that mutant. A mutant that runs
// past its timeout counts as killed. The exit status is 1 if a package's
// baseline tests fail or its score (percent killed) is below -min.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// defaultTargets are the pure packages: -pkg replaces them. A "=" after a
// directory limits the mutants to those files ("+"-separated); an "@"
// after that limits the tests run to a -run pattern.
var defaultTargets = []string{
	"./policy",
	"./checkpoint",
	"./heartbeat",
	"./internal/connect",
	"./internal/kstruct",
	// Only the table tests of these files: the package also holds
	// in-process cluster tests, seconds each, that cover other files.
	"./replicator=assign.go+load.go+retry.go@^Test(Assign|LightestBusiest|TopicPartitionString|LoadMeter|RetryClassification|Retriable|Lasting)",
	// The worker group's pure assignment (its membership is tested
	// against kfake).
	"./replicator/group=assign.go@^TestAssign",
	// The task runtime's pure parts: ids and planning.
	"./replicator/task=id.go+plan.go@^Test(IDText|Plan)$",
	// Topic sync's pure rules: configs to create and alter, ACLs to copy.
	"./replicator/topicsync=config.go+acl.go@^Test(CreateConfigs|ConfigChanges|RemoteACLs)$",
}

// defaultSkip names functions whose bodies are not mutated: the checkpoint
// and heartbeat tasks' methods (I/O, tested against kfake), and
// runRetrying's loop (it takes ctx through its receiver's run).
const defaultSkip = `^(Task\..*|sourceTask\..*)$`

func main() {
	var (
		pkgs     = flag.String("pkg", strings.Join(defaultTargets, ","), "comma-separated package directories, each optionally dir=file.go+file.go@TestRunPattern")
		skip     = flag.String("skip", defaultSkip, "regexp of functions not mutated (Name or Recv.Name)")
		match    = flag.String("match", "", "only mutants whose description (file:line: operator ...) matches this regexp")
		run      = flag.String("run", "", "passed to go test -run")
		short    = flag.Bool("short", false, "skip the mutants that need a build of their own (a few per package; most of the run time under load)")
		sample   = flag.Int("sample", 0, "test a seeded sample of this many mutants per package (0: all)")
		seed     = flag.Int64("seed", 1, "sampling seed")
		list     = flag.Bool("list", false, "list the mutants, run nothing")
		timeout  = flag.Duration("timeout", 0, "per-mutant test timeout (default: 5x the baseline run, at least 10s)")
		minScore = flag.Float64("min", 0, "exit 1 if a package's score (percent killed) is below this")
		verbose  = flag.Bool("v", false, "print killed mutants too")
		jobs     = flag.Int("j", 1, "mutants tested at once, each in its own copy of the module")
		schema   = flag.Bool("schemata", true, "build all of a package's mutants into one test binary where they allow it")
	)
	flag.Parse()
	skipRe := regexp.MustCompile(*skip)
	var matchRe *regexp.Regexp
	if *match != "" {
		matchRe = regexp.MustCompile(*match)
	}
	root, err := moduleRoot()
	if err != nil {
		fatal(err)
	}
	targets := parseTargets(*pkgs)
	infos, err := loadPackages(root, targets)
	if err != nil {
		fatal(err)
	}
	var all [][]mutant
	for i, p := range infos {
		ms := generate(p, targets[i].files, skipRe)
		if matchRe != nil {
			ms = slices.DeleteFunc(ms, func(m mutant) bool { return !matchRe.MatchString(m.String()) })
		}
		// Only a dropped statement (a variable left unused) or an integer
		// moved by one (a constant overflowing) can fail to compile: the
		// other operators swap like for like.
		ms = slices.DeleteFunc(ms, func(m mutant) bool { return (m.op == "drop" || m.op == "int") && !p.typeChecks(m) })
		if *sample > 0 && len(ms) > *sample {
			r := rand.New(rand.NewSource(*seed))
			r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
			ms = ms[:*sample]
			sort.SliceStable(ms, func(i, j int) bool { return ms[i].less(ms[j]) })
		}
		all = append(all, ms)
	}
	if *list {
		for _, ms := range all {
			for _, m := range ms {
				fmt.Println(m)
			}
		}
		return
	}

	works := make([]string, max(*jobs, 1))
	for i := range works {
		w, err := os.MkdirTemp("", "strait-mutate-")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(w)
		if err := copyTree(root, w); err != nil {
			fatal(err)
		}
		works[i] = w
	}
	// Interrupted: remove the copies all the same.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		for _, w := range works {
			if w != "" {
				os.RemoveAll(w)
			}
		}
		os.Exit(130)
	}()
	began := time.Now()
	failed := false
	type row struct {
		pkg                     string
		killed, survived, total int
		dur                     time.Duration
		baselineErr             error
	}
	var rows []row
	for i, p := range infos {
		r := row{pkg: targets[i].dir}
		start := time.Now()
		run := run
		if targets[i].run != "" {
			run = &targets[i].run
		}
		base, err := goTest(works[0], p.rel, *run, 10*time.Minute)
		if err != nil || base.outcome != survived {
			r.baselineErr = fmt.Errorf("baseline tests fail, package skipped: %v\n%s", err, base.output)
			fmt.Fprintf(os.Stderr, "%s: %v\n", p.rel, r.baselineErr)
			rows = append(rows, r)
			failed = true
			continue
		}
		t := *timeout
		if t == 0 {
			t = max(10*time.Second, 5*base.took)
		}
		ms := all[i]
		for j := range ms {
			ms[j].id = j + 1
		}
		results := make([]result, len(ms))
		var in, alone []mutant
		var srcs map[string][]byte
		if *schema {
			in, srcs, alone = p.splitSchemata(ms)
		} else {
			alone = ms
		}
		index := map[int]int{} // mutant id -> index in ms
		for j, m := range ms {
			index[m.id] = j
		}
		if len(in) > 0 {
			bin, restore, err := p.buildSchemata(works[0], srcs)
			tb := t
			if err == nil {
				var base result
				if base, err = runBinary(works[0], p.rel, bin, 0, *run, t); err == nil && base.outcome != survived {
					err = fmt.Errorf("schemata build fails its tests with no mutant on:\n%s", base.output)
				}
				if *timeout == 0 {
					// No build in the way: a mutant that runs ten times
					// longer than the tests do is stuck.
					tb = max(5*time.Second, 10*base.took)
				}
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\none build per mutant\n", p.rel, err)
				alone = ms
				in = nil
			}
			fmt.Fprintf(os.Stderr, "%s: %d mutants in one schemata build, %d built alone\n", p.rel, len(in), len(alone))
			parallel(len(works), len(in), func(w, k int) {
				m := in[k]
				res, err := runBinary(works[0], p.rel, bin, m.id, *run, tb)
				if err != nil {
					fatal(err)
				}
				results[index[m.id]] = res
				progress(p.rel, res, m)
			})
			restore()
		}
		if *short && len(alone) > 0 {
			fmt.Fprintf(os.Stderr, "%s: -short: %d mutants that need a build of their own not tested\n", p.rel, len(alone))
			skipped := map[int]bool{}
			for _, m := range alone {
				skipped[m.id] = true
			}
			ms = slices.DeleteFunc(slices.Clone(ms), func(m mutant) bool { return skipped[m.id] })
			kept := make([]result, 0, len(ms))
			for _, m := range ms {
				kept = append(kept, results[index[m.id]])
			}
			results, alone = kept, nil
		}
		parallel(len(works), len(alone), func(w, k int) {
			m := alone[k]
			res, err := p.try(works[w], m, *run, t)
			if err != nil {
				fatal(err)
			}
			results[index[m.id]] = res
			progress(p.rel, res, m)
		})
		for j, res := range results {
			m := ms[j]
			switch res.outcome {
			case broken:
				fmt.Printf("BROKEN   %s (type-checks but does not build; not counted)\n", m)
			case survived:
				r.total++
				r.survived++
				fmt.Printf("SURVIVED %s\n", m)
			default:
				r.total++
				r.killed++
				if *verbose {
					fmt.Printf("killed   %s (%s)\n", m, res.by)
				}
			}
		}
		r.dur = time.Since(start)
		rows = append(rows, r)
	}
	fmt.Println()
	fmt.Printf("%-22s %7s %7s %6s %8s\n", "package", "killed", "total", "score", "time")
	var k, n int
	for _, r := range rows {
		if r.baselineErr != nil {
			fmt.Printf("%-22s baseline failed\n", r.pkg)
			continue
		}
		k, n = k+r.killed, n+r.total
		score := 100.0
		if r.total > 0 {
			score = 100 * float64(r.killed) / float64(r.total)
		}
		if score < *minScore {
			failed = true
		}
		fmt.Printf("%-22s %7d %7d %5.1f%% %8s\n", r.pkg, r.killed, r.total, score, r.dur.Round(time.Second))
	}
	if n > 0 {
		fmt.Printf("%-22s %7d %7d %5.1f%% %8s\n", "total", k, n, 100*float64(k)/float64(n), time.Since(began).Round(time.Second))
	}
	if failed {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutate:", err)
	os.Exit(2)
}

type target struct {
	dir   string   // as given: ./policy
	files []string // base names to mutate; nil for all
	run   string   // the package's tests that cover them; "" for all
}

func parseTargets(s string) []target {
	var out []target
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		f, run, _ := strings.Cut(f, "@")
		dir, files, _ := strings.Cut(f, "=")
		t := target{dir: dir, run: run}
		if files != "" {
			t.files = strings.Split(files, "+")
		}
		out = append(out, t)
	}
	return out
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a module")
	}
	return filepath.Dir(mod), nil
}

// copyTree copies the module at root to dst, without .git.
func copyTree(root, dst string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if d.Name() == ".git" || (d.Name() == "testdata" && strings.Contains(rel, "fuzz")) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// pkg is a package to mutate, type-checked.
type pkg struct {
	rel   string // module-relative directory, "./policy"
	path  string // import path
	dir   string // absolute
	fset  *token.FileSet
	names []string // file base names, in order
	files []*ast.File
	src   map[string][]byte
	info  *types.Info
	imp   types.Importer
	tpkg  *types.Package
}

type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
}

func loadPackages(root string, targets []target) ([]*pkg, error) {
	args := []string{"list", "-export", "-deps", "-json=ImportPath,Dir,GoFiles,Export"}
	for _, t := range targets {
		args = append(args, t.dir)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w\n%s", err, stderr.String())
	}
	byPath := map[string]listed{}
	byDir := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var l listed
		if err := dec.Decode(&l); err != nil {
			return nil, err
		}
		byPath[l.ImportPath] = l
		byDir[l.Dir] = l
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		l, ok := byPath[path]
		if !ok || l.Export == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(l.Export)
	})
	var pkgs []*pkg
	for _, t := range targets {
		dir := filepath.Join(root, t.dir)
		l, ok := byDir[dir]
		if !ok {
			return nil, fmt.Errorf("package %s not listed", t.dir)
		}
		p := &pkg{rel: t.dir, path: l.ImportPath, dir: dir, fset: fset, src: map[string][]byte{}, imp: imp}
		for _, name := range l.GoFiles {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), b, parser.ParseComments)
			if err != nil {
				return nil, err
			}
			p.names, p.files, p.src[name] = append(p.names, name), append(p.files, f), b
		}
		p.info = &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{},
			Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
		conf := types.Config{Importer: imp}
		if p.tpkg, err = conf.Check(p.path, fset, p.files, p.info); err != nil {
			return nil, fmt.Errorf("type-check %s: %w", t.dir, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// mutant is one change: bytes [start, end) of file replaced by repl.
type mutant struct {
	p          *pkg
	file       string // base name
	line       int
	start, end int
	repl, op   string
	orig       string
	anc        anchor // where a schemata build switches it on
	id         int    // its number in a schemata build; 0 for none
}

func (m mutant) String() string {
	return fmt.Sprintf("%s/%s:%d: %s %q -> %q", strings.TrimPrefix(m.p.rel, "./"), m.file, m.line, m.op, m.orig, m.repl)
}

func (m mutant) less(o mutant) bool {
	if m.file != o.file {
		return m.file < o.file
	}
	if m.start != o.start {
		return m.start < o.start
	}
	return m.repl < o.repl
}

func (m mutant) apply() []byte {
	src := m.p.src[m.file]
	out := make([]byte, 0, len(src)+len(m.repl))
	out = append(out, src[:m.start]...)
	out = append(out, m.repl...)
	return append(out, src[m.end:]...)
}

// typeChecks reports whether the package still compiles with m applied:
// dropping an assignment can leave a variable unused, swapping a field can
// meet an unexported one.
func (p *pkg) typeChecks(m mutant) bool {
	files := slices.Clone(p.files)
	for i, name := range p.names {
		if name != m.file {
			continue
		}
		f, err := parser.ParseFile(p.fset, name, m.apply(), 0)
		if err != nil {
			return false
		}
		files[i] = f
	}
	conf := types.Config{Importer: p.imp, Error: func(e error) {
		if os.Getenv("MUTATE_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, m, e)
		}
	}}
	_, err := conf.Check(p.path, p.fset, files, nil)
	return err == nil
}

type outcome int

func (o outcome) String() string {
	return [...]string{"survived", "killed", "timeout", "broken"}[o]
}

const (
	survived outcome = iota
	killed
	timedOut
	broken
)

type result struct {
	outcome outcome
	by      string // the first failing test, or "timeout"
	output  string
	took    time.Duration
}

var failRe = regexp.MustCompile(`--- FAIL: (\S+)`)

// goTest runs the tests of package rel in the module copy at work.
func goTest(work, rel, run string, timeout time.Duration) (result, error) {
	args := []string{"test", "-count=1", "-vet=off", "-failfast", "-timeout", timeout.String()}
	if run != "" {
		args = append(args, "-run", run)
	}
	return runCmd(exec.Command("go", append(args, rel)...), work, nil, timeout+time.Minute)
}

// runCmd runs a go test or a test binary and sorts its outcome; the
// process is killed after limit.
func runCmd(cmd *exec.Cmd, dir string, env []string, limit time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit+30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	c.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := c.CombinedOutput()
	res := result{output: string(out), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
		res.outcome = survived
	case ctx.Err() != nil || strings.Contains(res.output, "panic: test timed out"):
		res.outcome, res.by = timedOut, "timeout"
	case strings.Contains(res.output, "[build failed]") || strings.Contains(res.output, "[setup failed]"):
		res.outcome, res.by = broken, "build failed"
	case errors.As(err, &exit):
		res.outcome, res.by = killed, "failed"
		if m := failRe.FindStringSubmatch(res.output); m != nil {
			res.by = m[1]
		} else if strings.Contains(res.output, "panic:") {
			res.by = "panic"
		}
	default:
		return res, err
	}
	return res, nil
}

// try runs the package's tests with m applied in the copy, then restores it.
func (p *pkg) try(work string, m mutant, run string, timeout time.Duration) (result, error) {
	path := filepath.Join(work, p.rel, m.file)
	if err := os.WriteFile(path, m.apply(), 0o644); err != nil {
		return result{}, err
	}
	defer os.WriteFile(path, p.src[m.file], 0o644)
	return goTest(work, p.rel, run, timeout)
}

var progressMu sync.Mutex

func progress(rel string, res result, m mutant) {
	progressMu.Lock()
	defer progressMu.Unlock()
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", rel, res.outcome, m)
}

// parallel calls fn(worker, k) for k in [0, n) on workers goroutines.
func parallel(workers, n int, fn func(w, k int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fn(w, k)
			}
		}()
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
}
