package trainer

import (
	"context"
	"io"
	"log/slog"
)

// What the masked-LM (Trainer) and contrastive (ContrastiveTrainer) runs
// share: when to evaluate and checkpoint, which checkpoint a resumed run
// starts from, and how an early stop is named in the summary.

// dueAfter reports whether a periodic task (an evaluation, a checkpoint)
// runs after update step: every `every` updates (0: never on a schedule)
// and always after the run's last update, lastStep.
func dueAfter(step, every, lastStep int) bool {
	return (every > 0 && step%every == 0) || step == lastStep
}

// checkpointToResume is the newest checkpoint in out, or "" when there is
// none yet: the run then starts fresh, which is logged.
func checkpointToResume(out string, log *slog.Logger) (string, error) {
	dir, err := LatestCheckpoint(out)
	if err != nil {
		return "", err
	}
	if dir == "" {
		log.Info("resume: no checkpoint yet, starting fresh", "output", out)
	}
	return dir, nil
}

// earlyStopReason is the summary's stopped_by for a run that ended before
// its last update: it was interrupted, or the data ran out.
func earlyStopReason(ctx context.Context) string {
	if ctx.Err() != nil {
		return "interrupted"
	}
	return "end of data"
}

// loggerOrDiscard is log, or a logger that drops everything when log is nil.
func loggerOrDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return log
}
