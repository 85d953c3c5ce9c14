module github.com/simguard/simguard

go 1.26.0

require (
	github.com/prometheus/client_golang v1.25.0 // indirect
	layeh.com/radius v0.0.0-20231213012653-1006025d24f8 // indirect
)
