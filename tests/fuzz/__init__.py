"""Coverage-guided fuzzing of every entry point that reads untrusted bytes (`make fuzz`).

`targets` holds the targets (no atheris needed), `run` drives atheris, `replay`
runs one saved input, `seeds` writes the seed corpus, and `test_corpus` replays
the whole corpus in `make test` so a crash found once stays fixed.
"""
