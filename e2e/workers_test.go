package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// taskWorkers asks a worker's REST API which worker runs each RUNNING
// source task (Connect's worker_id: the worker's listener).
func taskWorkers(addr string) (map[int]string, error) {
	resp, err := http.Get("http://" + addr + "/connectors/A.B.MirrorSourceConnector/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct {
		Tasks []struct {
			ID       int    `json:"id"`
			State    string `json:"state"`
			WorkerID string `json:"worker_id"`
		} `json:"tasks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	out := map[int]string{}
	for _, t := range st.Tasks {
		if t.State == "RUNNING" {
			out[t.ID] = t.WorkerID
		}
	}
	return out, nil
}

// runningTasks asks a worker's REST API which source tasks it runs itself.
func runningTasks(addr string) ([]int, error) {
	workers, err := taskWorkers(addr)
	if err != nil {
		return nil, err
	}
	var out []int
	for id, w := range workers {
		if w == addr {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// TestWorkersShareTasks runs three workers as processes on one flow of 24
// partitions (24 tasks) under continuous production: every task runs on
// exactly one worker; a worker stopped with SIGTERM hands its tasks over at
// once (it leaves the group), one killed with -9 within about the session
// timeout; a worker that comes back takes its share and only that moves.
// Nothing is lost.
func TestWorkersShareTasks(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 24, nil)
	bg := produceInBackground(t, a, "orders", 24, 5, 20*time.Millisecond) // 6,000 records/s
	const tasks = 24
	const session = 2 * time.Second // props
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	procs := make([]*process, len(addrs))
	start := func(i int) {
		cfg := writeFile(t, fmt.Sprintf("worker%d.properties", i), props([]*cluster{a, b}, "A->B.enabled = true",
			fmt.Sprintf("tasks.max = %d", tasks), "emit.checkpoints.enabled = false", "emit.heartbeats.enabled = false",
			"listeners = http://"+addrs[i]))
		procs[i] = startProcess(t, "run", "-c", cfg)
	}
	// owners polls the live workers until every task runs on exactly one
	// of them with the counts balanced, and returns each task's worker.
	owners := func(live []int, timeout time.Duration) map[int]int {
		t.Helper()
		var owner map[int]int
		waitFor(t, timeout, func() (bool, string) {
			owner = map[int]int{}
			counts := map[int]int{}
			for _, w := range live {
				ids, err := runningTasks(addrs[w])
				if err != nil {
					return false, fmt.Sprintf("worker %d: %v", w, err)
				}
				for _, id := range ids {
					if prev, ok := owner[id]; ok {
						return false, fmt.Sprintf("task %d runs on workers %d and %d", id, prev, w)
					}
					owner[id] = w
				}
				counts[w] = len(ids)
			}
			if len(owner) != tasks {
				return false, fmt.Sprintf("%d of %d tasks running: %v", len(owner), tasks, counts)
			}
			for _, w := range live {
				if n := counts[w]; n < tasks/len(live) || n > (tasks+len(live)-1)/len(live) {
					return false, fmt.Sprintf("unbalanced: %v", counts)
				}
			}
			// Each worker shows every task, those of the others as the
			// status topic has them (as Connect does).
			for _, w := range live {
				shown, err := taskWorkers(addrs[w])
				if err != nil {
					return false, fmt.Sprintf("worker %d: %v", w, err)
				}
				for id, o := range owner {
					if shown[id] != addrs[o] {
						return false, fmt.Sprintf("worker %d shows task %d RUNNING on %q, want %q", w, id, shown[id], addrs[o])
					}
				}
			}
			return true, ""
		})
		return owner
	}
	moved := func(before, after map[int]int) int {
		n := 0
		for id, w := range after {
			if before[id] != w {
				n++
			}
		}
		return n
	}

	for i := range addrs {
		start(i)
	}
	all := owners([]int{0, 1, 2}, 60*time.Second)
	t.Logf("three workers: each runs %d tasks", tasks/3)

	// SIGTERM: the worker leaves the group; its 8 tasks move to the others,
	// and only those.
	stopped := time.Now()
	procs[2].signal(t, syscall.SIGTERM)
	two := owners([]int{0, 1}, session)
	t.Logf("SIGTERM: tasks moved to the other two in %s; %d moved", time.Since(stopped).Round(10*time.Millisecond), moved(all, two))
	if code := procs[2].wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	if n := moved(all, two); n != tasks/3 {
		t.Errorf("%d tasks moved after a worker left, want %d (only its own)", n, tasks/3)
	}

	// It comes back: it takes 8 tasks, and no other task moves.
	start(2)
	three := owners([]int{0, 1, 2}, 30*time.Second)
	if n := moved(two, three); n != tasks/3 {
		t.Errorf("%d tasks moved when a worker came back, want %d", n, tasks/3)
	}
	t.Logf("worker back: %d tasks moved to it", moved(two, three))

	// kill -9: the group notices after the session timeout.
	killed := time.Now()
	procs[1].signal(t, syscall.SIGKILL)
	procs[1].wait(t, 10*time.Second)
	left := owners([]int{0, 2}, 3*session)
	t.Logf("kill -9: tasks moved to the other two in %s (session timeout %s); %d moved", time.Since(killed).Round(10*time.Millisecond), session, moved(three, left))
	if n := moved(three, left); n != tasks/3 {
		t.Errorf("%d tasks moved after a kill, want %d", n, tasks/3)
	}

	bg.stop(t)
	an := waitAllCopied(t, a, "orders", b, "A.orders", 60*time.Second)
	t.Logf("%d records copied, 0 lost, %d duplicates (at least once; the kill -9)", an.copied, an.dups)
	// Tasks that move in a rebalance stop (flushing positions) before they
	// start elsewhere: only the kill -9 duplicates, at most what the killed
	// worker copied in two flush intervals (500 ms) of 6,000 records/s.
	if an.dups > 6000 {
		t.Errorf("%d duplicates, more than the kill -9 can explain (6000)", an.dups)
	}
	for _, i := range []int{0, 2} {
		procs[i].signal(t, syscall.SIGTERM)
		if code := procs[i].wait(t, 15*time.Second); code != 0 {
			t.Errorf("worker %d: exit code after SIGTERM = %d, want 0", i, code)
		}
	}
}

// TestWorkersShareConfig runs two workers as processes: a pause, a resume
// and a new config given to one worker's REST API reach the other through
// the configs topic, and the group runs the new number of tasks.
func TestWorkersShareConfig(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 8, nil)
	addrs := []string{freeAddr(t), freeAddr(t)}
	procs := make([]*process, len(addrs))
	for i, addr := range addrs {
		cfg := writeFile(t, fmt.Sprintf("worker%d.properties", i), props([]*cluster{a, b}, "A->B.enabled = true",
			"tasks.max = 2", "emit.checkpoints.enabled = false", "emit.heartbeats.enabled = false", "listeners = http://"+addr))
		p := startProcess(t, "run", "-c", cfg)
		procs[i] = p
		t.Cleanup(func() {
			p.signal(t, syscall.SIGTERM)
			p.wait(t, 15*time.Second)
			if t.Failed() {
				t.Logf("worker %d output:\n%s", i, p.output)
			}
		})
	}
	// running lists the tasks running on both workers; nil while one does
	// not answer (yet).
	running := func() (all []int) {
		all = []int{}
		for _, addr := range addrs {
			ids, err := runningTasks(addr)
			if err != nil {
				return nil
			}
			all = append(all, ids...)
		}
		return all
	}
	connectorState := func(addr string) string {
		var st struct {
			Connector struct {
				State string `json:"state"`
			} `json:"connector"`
		}
		rest(t, "GET", "http://"+addr+"/connectors/A.B.MirrorSourceConnector/status", 200, &st)
		return st.Connector.State
	}
	waitFor(t, 60*time.Second, func() (bool, string) {
		ids := running()
		return len(ids) == 2, fmt.Sprintf("tasks running: %v, want 2", ids)
	})

	rest(t, "PUT", "http://"+addrs[0]+"/connectors/A.B.MirrorSourceConnector/pause", 202, nil)
	waitFor(t, 10*time.Second, func() (bool, string) {
		st, ids := connectorState(addrs[1]), running()
		return st == "PAUSED" && ids != nil && len(ids) == 0, fmt.Sprintf("paused on worker 0: worker 1 says %s, tasks running: %v", st, ids)
	})
	rest(t, "PUT", "http://"+addrs[1]+"/connectors/A.B.MirrorSourceConnector/resume", 202, nil)
	waitFor(t, 10*time.Second, func() (bool, string) {
		st, ids := connectorState(addrs[0]), running()
		return st == "RUNNING" && len(ids) == 2, fmt.Sprintf("resumed on worker 1: worker 0 says %s, tasks running: %v", st, ids)
	})

	restBody(t, "PUT", "http://"+addrs[1]+"/connectors/A.B.MirrorSourceConnector/config", `{"tasks.max":"6"}`, 200, nil)
	waitFor(t, 30*time.Second, func() (bool, string) {
		ids := running()
		slices.Sort(ids)
		return slices.Equal(ids, []int{0, 1, 2, 3, 4, 5}), fmt.Sprintf("tasks running on the two workers: %v, want 0 to 5", ids)
	})

	// A task restart sent to a worker that does not run the task is
	// forwarded to the one that does (its worker_id); a connector restart
	// reaches every worker through the configs topic (KIP-745's record).
	starts := func(w, task int) int {
		return strings.Count(procs[w].output.String(), fmt.Sprintf(`msg="starting task" flow=A->B task=%d `, task))
	}
	onOne, err := runningTasks(addrs[1])
	if err != nil || len(onOne) == 0 {
		t.Fatalf("tasks on worker 1: %v, %v", onOne, err)
	}
	task := onOne[0]
	waitFor(t, 10*time.Second, func() (bool, string) {
		shown, err := taskWorkers(addrs[0])
		return err == nil && shown[task] == addrs[1], fmt.Sprintf("worker 0 shows task %d on %q, want %q (%v)", task, shown[task], addrs[1], err)
	})
	before := starts(1, task)
	rest(t, "POST", fmt.Sprintf("http://%s/connectors/A.B.MirrorSourceConnector/tasks/%d/restart", addrs[0], task), 204, nil)
	waitFor(t, 10*time.Second, func() (bool, string) {
		n := starts(1, task)
		return n > before, fmt.Sprintf("worker 1 started task %d %d times, want more than %d (restart sent to worker 0)", task, n, before)
	})
	rest(t, "POST", fmt.Sprintf("http://%s/connectors/A.B.MirrorSourceConnector/tasks/%d/restart?forward=false", addrs[0], task), 409, nil)

	counts := map[int]int{}
	for _, id := range onOne {
		counts[id] = starts(1, id)
	}
	rest(t, "POST", "http://"+addrs[0]+"/connectors/A.B.MirrorSourceConnector/restart?includeTasks=true", 202, nil)
	waitFor(t, 10*time.Second, func() (bool, string) {
		for _, id := range onOne {
			if n := starts(1, id); n <= counts[id] {
				return false, fmt.Sprintf("worker 1 started task %d %d times, want more than %d (connector restart sent to worker 0)", id, n, counts[id])
			}
		}
		return true, ""
	})
}

// taskPartitions asks a worker's REST API which partitions of orders each
// source task it runs copies (task.assigned.partitions).
func taskPartitions(t *testing.T, addr string) map[int][]int32 {
	t.Helper()
	var tasks []struct {
		ID struct {
			Task int `json:"task"`
		} `json:"id"`
		Config map[string]string `json:"config"`
	}
	rest(t, "GET", "http://"+addr+"/connectors/A.B.MirrorSourceConnector/tasks", 200, &tasks)
	out := map[int][]int32{}
	for _, task := range tasks {
		for _, tp := range strings.Split(task.Config["task.assigned.partitions"], ",") {
			if p, ok := strings.CutPrefix(tp, "orders-"); ok {
				n, err := strconv.Atoi(p)
				if err != nil {
					t.Fatalf("task.assigned.partitions %q", task.Config["task.assigned.partitions"])
				}
				out[task.ID.Task] = append(out[task.ID.Task], int32(n))
			}
		}
	}
	return out
}

// TestLoadAwareAcrossWorkers: with tasks.assignment = load and two
// workers, the leader (the first worker) splits two hot partitions that
// share a task running on the other worker: it assigns by the loads every
// worker reports, not only by those it measures itself.
func TestLoadAwareAcrossWorkers(t *testing.T) {
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 8, nil)
	addrs := []string{freeAddr(t), freeAddr(t)}
	start := func(i int) {
		cfg := writeFile(t, fmt.Sprintf("worker%d.properties", i), props([]*cluster{a, b}, "A->B.enabled = true",
			"tasks.max = 4", "tasks.assignment = load", "emit.checkpoints.enabled = false", "emit.heartbeats.enabled = false",
			"listeners = http://"+addrs[i]))
		p := startProcess(t, "run", "-c", cfg)
		t.Cleanup(func() {
			p.signal(t, syscall.SIGTERM)
			p.wait(t, 15*time.Second)
			if t.Failed() {
				t.Logf("worker %d output:\n%s", i, p.output)
			}
		})
	}
	running := func(want ...int) {
		waitFor(t, 60*time.Second, func() (bool, string) {
			var got []int
			for i := range want {
				ids, err := runningTasks(addrs[i])
				if err != nil {
					return false, err.Error()
				}
				got = append(got, len(ids))
			}
			return slices.Equal(got, want), fmt.Sprintf("tasks running per worker %v, want %v", got, want)
		})
	}
	start(0) // the leader
	running(4)
	start(1)
	running(2, 2)

	// Both partitions of a task the second worker runs turn hot.
	var hot []int32
	for _, parts := range taskPartitions(t, addrs[1]) {
		if len(parts) == 2 {
			hot = parts
			break
		}
	}
	if hot == nil {
		t.Fatalf("no task with 2 partitions on worker 1: %v", taskPartitions(t, addrs[1]))
	}
	t.Logf("hot partitions %v, on one task of worker 1", hot)
	produceToInBackground(t, a, "orders", hot, 50, 10*time.Millisecond) // 5,000 records/s each

	waitFor(t, 60*time.Second, func() (bool, string) {
		owner := map[int32]int{}
		for _, addr := range addrs {
			for task, parts := range taskPartitions(t, addr) {
				for _, p := range parts {
					owner[p] = task
				}
			}
		}
		o0, ok0 := owner[hot[0]]
		o1, ok1 := owner[hot[1]]
		return ok0 && ok1 && o0 != o1, fmt.Sprintf("hot partitions %v on tasks %v", hot, owner)
	})
}
