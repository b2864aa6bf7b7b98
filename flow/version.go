package flow

// Version is corpusflow's release version. Outputs record it (shard
// metadata, reports) so a consumer knows what made them.
const Version = "0.1.0"
