module example.com/proptest

go 1.26

require (
	pgregory.net/rapid v1.3.0
	github.com/zabsim/zabsim v0.0.0
)

require (
	github.com/anishathalye/porcupine v1.3.1 // indirect
	go.etcd.io/raft/v3 v3.7.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/zabsim/zabsim => ../..
