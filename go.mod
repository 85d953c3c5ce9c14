module github.com/simguard/simguard

go 1.26
