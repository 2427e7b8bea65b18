module github.com/logmask/logmask/bindings/go

go 1.19
