module toncon

go 1.26.8
