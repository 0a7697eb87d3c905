"""Run several training configurations at once, respecting stage order, with one progress bar.

On a CPU two single-threaded trainings of tiny networks finish far sooner than the same two one
after the other with two threads each (small convolutions do not parallelise well), so the demo
trains its runs in ``jobs`` worker processes (``python -m s2rdepth.demo._worker``: fresh
interpreters, so no forked OpenMP state and no ``if __name__ == "__main__"`` guard needed in
the caller's script; tasks and events travel as JSON lines). A run starts
once the run it depends on (``after``) has finished; among the ready runs the one heading the
longest remaining chain goes first. ``jobs=1`` trains in this process.
"""
from __future__ import annotations

import json
import os
import queue as queue_mod
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

__all__ = ["TrainTask", "TrainingFailed", "train_all"]


class TrainingFailed(RuntimeError):
    """A demo run failed; the message names it and ends with the cause."""


@dataclass(frozen=True)
class TrainTask:
    """One ``s2rdepth train CONFIG key=value ...`` run.

    ``key`` names it; ``after`` is the key of the task that must finish first; ``cost`` is the
    expected duration in any unit (scheduling only); ``out`` is the run folder.
    """

    key: str
    config: str
    overrides: tuple[str, ...]
    out: Path
    steps: int
    after: Optional[str] = None
    cost: float = 1.0


@dataclass
class _State:
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    steps: dict[str, int] = field(default_factory=dict)


def _run_task(task: TrainTask, report: Callable[[tuple], None]) -> None:
    """Train ``task`` in this process, reporting ``("step", key, step)`` and ``("done", key, info)``."""
    from ..train import load_config, train

    t0 = time.perf_counter()
    cfg = load_config(task.config, [*task.overrides, f"out={task.out}"])
    last = [0.0]

    def on_step(step: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 0.2 or step == total:
            last[0] = now
            report(("step", task.key, step))

    result = train(cfg, console=False, on_step=on_step)
    report(("done", task.key, {"model": str(result.model), "steps": result.step,
                               "steps_per_second": result.steps_per_second,
                               "seconds": time.perf_counter() - t0, "losses": result.losses}))


def _task_to_json(task: TrainTask) -> str:
    return json.dumps({"key": task.key, "config": task.config, "overrides": list(task.overrides),
                       "out": str(task.out), "steps": task.steps})


def _worker_main() -> int:
    """``python -m s2rdepth.demo._worker``: train the JSON tasks read from stdin (one per line)
    and write JSON events to the original stdout; everything else printed goes to stderr."""
    events = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # stray prints must not corrupt the event stream
    sys.stdout = sys.stderr

    def report(event: tuple) -> None:
        events.write(json.dumps(event, default=str) + "\n")

    for line in sys.stdin:
        spec = json.loads(line)
        task = TrainTask(spec["key"], spec["config"], tuple(spec["overrides"]), Path(spec["out"]), spec["steps"])
        try:
            _run_task(task, report)
        except BaseException as exc:  # report every failure, then stop this worker
            report(("error", task.key, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
            return 1
    return 0


class _Worker:
    """A ``python -m s2rdepth.demo._worker`` process; its events go to a shared queue."""

    def __init__(self, index: int, events: "queue_mod.Queue[tuple]", log: Path) -> None:
        self.index = index
        self.log = log
        self.stderr = open(log, "w", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "s2rdepth.demo._worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, args=(events,), daemon=True)
        self.reader.start()

    def _read(self, events: "queue_mod.Queue[tuple]") -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                events.put(tuple(json.loads(line)))
            except json.JSONDecodeError:
                continue
        events.put(("exit", self.index, self.proc.wait()))

    def submit(self, task: TrainTask) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(_task_to_json(task) + "\n")
        self.proc.stdin.flush()

    def close(self, kill: bool = False) -> None:
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                try:
                    assert self.proc.stdin is not None
                    self.proc.stdin.close()
                    self.proc.wait(timeout=60)
                except (OSError, subprocess.TimeoutExpired):
                    self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def _failure(task: TrainTask, detail: str) -> TrainingFailed:
    return TrainingFailed(f"training run {task.key!r} ({task.config}, folder {task.out}) failed: {detail}")


def _chain_cost(tasks: dict[str, TrainTask]) -> dict[str, float]:
    """Cost of each task plus everything that waits on it (the longest dependent chain)."""
    children: dict[str, list[str]] = {k: [] for k in tasks}
    for t in tasks.values():
        if t.after is not None:
            children[t.after].append(t.key)

    def cost(k: str) -> float:
        return tasks[k].cost + max((cost(c) for c in children[k]), default=0.0)

    return {k: cost(k) for k in tasks}


def train_all(tasks: Sequence[TrainTask], jobs: int = 1,
              progress: Optional[Callable[[dict[str, int], set[str]], None]] = None) -> dict[str, dict[str, Any]]:
    """Train every task, at most ``jobs`` at a time; returns ``key → {model, steps,
    steps_per_second, seconds, losses}``.

    ``progress(steps_done_per_key, running_keys)`` is called whenever a run advances.

    Raises:
        TrainingFailed: a run failed (the others are stopped); the message has its traceback.
        ValueError: duplicate keys or an ``after`` naming no task.
    """
    by_key = {t.key: t for t in tasks}
    if len(by_key) != len(tasks):
        raise ValueError("duplicate task keys")
    for t in tasks:
        if t.after is not None and t.after not in by_key:
            raise ValueError(f"task {t.key!r} waits for unknown task {t.after!r}")
    priority = _chain_cost(by_key)
    state = _State(steps={k: 0 for k in by_key})

    def ready() -> list[TrainTask]:
        waiting = [t for t in tasks if t.key not in state.done and t.key not in state.running
                   and (t.after is None or t.after in state.done)]
        return sorted(waiting, key=lambda t: -priority[t.key])

    def handle(event: tuple) -> None:
        kind, key, payload = event
        if kind == "step":
            state.steps[key] = payload
        elif kind == "done":
            state.done[key] = payload
            state.running.discard(key)
            state.steps[key] = by_key[key].steps
        elif kind == "error":
            raise _failure(by_key[key], f"\n{payload}")
        if progress is not None:
            progress(dict(state.steps), set(state.running))

    if jobs <= 1:
        for _ in range(len(tasks)):
            task = ready()[0]
            state.running.add(task.key)
            try:
                _run_task(task, handle)
            except TrainingFailed:
                raise
            except Exception as exc:
                raise _failure(task, f"{type(exc).__name__}: {exc}") from exc
        return state.done

    log_dir = Path(tempfile.mkdtemp(prefix="s2rdepth-demo-workers-"))
    events: "queue_mod.Queue[tuple]" = queue_mod.Queue()
    workers = [_Worker(i, events, log_dir / f"worker{i}.log") for i in range(min(jobs, len(tasks)))]
    assigned: dict[str, int] = {}
    ok = False
    try:
        while len(state.done) < len(tasks):
            busy = {assigned[k] for k in state.running}
            for w, task in zip([w for w in workers if w.index not in busy], ready()):
                state.running.add(task.key)
                assigned[task.key] = w.index
                w.submit(task)
            event = events.get()
            if event[0] == "exit":
                running = [k for k in state.running if assigned[k] == event[1]]
                if running:
                    tail = workers[event[1]].log.read_text(encoding="utf-8", errors="replace")[-3000:]
                    raise _failure(by_key[running[0]], f"its process exited with status {event[2]}:\n{tail}")
                continue
            handle(event)
        ok = True
    finally:
        for w in workers:
            w.close(kill=not ok)
        shutil.rmtree(log_dir, ignore_errors=True)
    return state.done
