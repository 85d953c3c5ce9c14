# The two commands a new user needs are in the README: make run, make test.
.PHONY: run test test-short build bench

run:
	go run ./cmd/simguard serve --demo

test:
	./scripts/test

test-short:
	./scripts/test -short

build:
	go build -o bin/simguard ./cmd/simguard

bench:
	./scripts/bench
