"""Fuzz one target with atheris (libFuzzer), or collect what a run found.

    python -m tests.fuzz.run TARGET [--seconds N] [--keep-going] [-- LIBFUZZER_FLAGS]
    python -m tests.fuzz.run TARGET --collect
    python -m tests.fuzz.run --list

libFuzzer mutates the inputs in tests/fuzz/corpus/TARGET/, keeps inputs that reach
new code in out/fuzz/TARGET/corpus/, and writes inputs that crash, hang or run out
of memory as crash-*, timeout-*, oom-* into out/fuzz/TARGET/. `--collect` copies
those not yet in the seed folder there, where `test_corpus` replays them.

By default the first Python exception ends the run (libFuzzer's way). With
`--keep-going` it does not: the first input of each distinct crash (exception type
and the line that raised it) is saved as crash-<sha1>, its traceback beside it in
crash-<sha1>.txt, and `--collect` copies it only if no corpus case already crashes
that way. One run then finds every crash, and a corpus case that still crashes (a
regression case awaiting its fix) does not end the run on start-up. Saved hangs
and out-of-memory inputs are left out of the seeds for the same reason.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
DICTS = HERE / "dicts"
OUT = HERE.parents[1] / "out" / "fuzz"
#: Prefixes libFuzzer (and --keep-going) give inputs that crashed, hung or ran out of memory.
ARTIFACTS = ("crash-", "timeout-", "oom-", "slow-unit-")
#: Of those, the ones that would end a run again as soon as libFuzzer loads them.
FATAL = ("timeout-", "oom-", "slow-unit-")
#: Token dictionary per target; the XML one for every other target.
DICTIONARY = {"manifest_json": "json.dict", "manifest_csv": "csv.dict", "cn23_csv": "csv.dict"}
#: Code whose coverage guides the fuzzer; libraries (lxml, pydantic) are compiled anyway.
INSTRUMENTED = ["messages", "adapters", "tests.fuzz.targets"]


def main(argv: list[str] | None = None) -> int:
    """Command line: fuzz, collect or list (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("target", nargs="?", help="a name from --list")
    parser.add_argument("--seconds", type=int, default=30, help="libFuzzer -max_total_time")
    parser.add_argument("--keep-going", action="store_true", help="do not stop at a crash")
    parser.add_argument("--collect", action="store_true", help="copy new crash files to corpus")
    parser.add_argument("--list", action="store_true", help="print the target names")
    args, libfuzzer_flags = parser.parse_known_args(argv)
    libfuzzer_flags = [flag for flag in libfuzzer_flags if flag != "--"]
    if args.list:
        from tests.fuzz.targets import TARGETS

        print("\n".join(TARGETS))
        return 0
    if args.target is None:
        parser.error("a target is needed (see --list)")
    if args.collect:
        return 1 if collect(args.target) else 0
    fuzz(args.target, seconds=args.seconds, keep_going=args.keep_going, flags=libfuzzer_flags)


def fuzz(name: str, *, seconds: int, keep_going: bool, flags: list[str]) -> NoReturn:
    """Run libFuzzer on one target; it exits the process when done or on a crash."""
    import atheris  # only a fuzzing run needs it; targets and the corpus test do not

    # Comparison feedback for str.startswith/endswith in instrumented code.
    atheris.enabled_hooks.add("str")
    with atheris.instrument_imports(include=INSTRUMENTED):
        from tests.fuzz.targets import TARGETS
    if name not in TARGETS:
        sys.exit(f"unknown target {name!r}; one of: {', '.join(TARGETS)}")
    out = OUT / name
    work = out / "corpus"
    work.mkdir(parents=True, exist_ok=True)
    seeds = _seeds(name, out)
    target = TARGETS[name]
    one_input = _keep_going(target, out) if keep_going else target
    libfuzzer = [
        sys.argv[0],
        f"-max_total_time={seconds}",
        "-rss_limit_mb=2048",
        "-timeout=10",
        f"-artifact_prefix={out}/",
        f"-dict={DICTS / DICTIONARY.get(name, 'xml.dict')}",
        "-print_final_stats=1",
        *flags,
        str(work),  # first folder: where libFuzzer adds the inputs it finds
        str(seeds),
    ]
    atheris.Setup(libfuzzer, one_input)
    atheris.Fuzz()
    sys.exit(0)  # not reached: libFuzzer exits itself


def _seeds(name: str, out: Path) -> Path:
    """The target's corpus without saved hangs and out-of-memory inputs, which would end the
    run on start-up (`test_corpus` replays them under a cap): links in out/fuzz/NAME/seeds/."""
    folder = out / "seeds"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for path in sorted((CORPUS / name).iterdir()):
        if path.is_file() and not _fatal(path):
            (folder / path.name).symlink_to(path)
    return folder


Signature = tuple[str, str, int | None]


def signature(exc: BaseException) -> Signature:
    """What tells two crashes apart: the exception type and the line that raised it."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return type(exc).__name__, frame.filename, frame.lineno


def crash_of(target: Callable[[bytes], None], data: bytes) -> Signature | None:
    """The signature of the crash `data` causes in `target`, or None when it runs clean."""
    try:
        target(data)
    except Exception as exc:  # every escape is a crash
        return signature(exc)
    return None


def _keep_going(target: Callable[[bytes], None], out: Path) -> Callable[[bytes], None]:
    """`target`, but a Python exception is saved (once per signature), not fatal."""
    seen: set[Signature] = set()

    def one_input(data: bytes) -> None:
        try:
            target(data)
        except Exception as exc:  # every escape is a crash to record
            found = signature(exc)
            if found in seen:
                return
            seen.add(found)
            path = out / f"crash-{hashlib.sha1(data).hexdigest()}"
            path.write_bytes(data)
            path.with_name(f"{path.name}.txt").write_text("".join(traceback.format_exception(exc)))
            print(
                f"\n==== crash {found[0]} at {found[1]}:{found[2]}: {str(exc)[:200]}"
                f"\n==== input saved as {path}",
                file=sys.stderr,
                flush=True,
            )

    return one_input


def collect(name: str) -> int:
    """Copy the inputs of out/fuzz/NAME/ that crashed, hung or ran out of memory into the
    corpus, unless the corpus already has the same bytes or, for a crash, a case that
    crashes the same way (each run saves the first input per crash it meets, which
    differs from run to run). Returns how many were copied."""
    from tests.fuzz.targets import TARGETS  # not instrumented: a plain replay

    target = TARGETS[name]
    seeds = CORPUS / name
    seeds.mkdir(parents=True, exist_ok=True)
    corpus = [path for path in sorted(seeds.iterdir()) if path.is_file()]
    known = {_digest(path) for path in corpus}
    crashes = {crash_of(target, path.read_bytes()) for path in corpus if not _fatal(path)}
    out = OUT / name
    new = 0
    for path in sorted(out.glob("*")) if out.is_dir() else []:
        if not (path.is_file() and path.name.startswith(ARTIFACTS)) or path.suffix == ".txt":
            continue
        if _digest(path) in known:
            continue
        if not _fatal(path):
            found = crash_of(target, path.read_bytes())
            if found is None or found in crashes:
                continue  # fixed since, or a bug the corpus already holds
            crashes.add(found)
        known.add(_digest(path))
        new += 1
        shutil.copyfile(path, seeds / path.name)
        trace = path.with_name(f"{path.name}.txt")
        where = f" (traceback: {trace})" if trace.exists() else ""
        print(f"{name}: new regression case {seeds / path.name}{where}")
    return new


def _fatal(path: Path) -> bool:
    """Saved as a hang or out-of-memory: never replayed in this process."""
    return path.name.startswith(FATAL)


def _digest(path: Path) -> bytes:
    """Content identity: libFuzzer names inputs by their SHA-1 too."""
    return hashlib.sha1(path.read_bytes()).digest()


if __name__ == "__main__":
    sys.exit(main())
