package pack

import "github.com/corpusflow/corpusflow/flow"

// Examples carry their *Layout in Fields; registering it lets a transport
// between processes (Kafka) carry it to the shard sink on another machine.
func init() { flow.RegisterWireType[*Layout]("pack.Layout") }
