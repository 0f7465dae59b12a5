package storage

import (
	"context"
	"time"
)

// JobStore keeps the per-device queue of commands (jobs) and their outcome.
type JobStore interface {
	CreateJob(ctx context.Context, j *Job) error // assigns ID, CreatedAt; State defaults to queued
	GetJob(ctx context.Context, id int64) (*Job, error)
	ListJobs(ctx context.Context, f JobFilter) ([]*Job, error) // ordered by ID
	// PendingJobs returns the device's jobs that are queued, or sent in a session
	// other than sessionID (a broken session: they must be resent), ordered by ID.
	PendingJobs(ctx context.Context, deviceID, sessionID string) ([]*Job, error)
	// UpdateJob stores a job's new state. When the stored job is terminal it
	// returns ErrConflict and changes nothing (a cancelled job stays cancelled).
	UpdateJob(ctx context.Context, j *Job) error
	// CancelJob marks a queued or sent job cancelled; ErrConflict if already terminal.
	CancelJob(ctx context.Context, id int64) (*Job, error)
	// DeleteJobsBefore removes finished jobs (done, failed, cancelled)
	// created before t (retention); queued and sent jobs always stay.
	// Returns how many. Backends may rely on job IDs growing with creation
	// time: a job given an old CreatedAt after a newer job was created may
	// stay until a later sweep's t passes that newer job.
	DeleteJobsBefore(ctx context.Context, t time.Time) (int, error)
	// CountJobs counts jobs in the given state (all devices).
	CountJobs(ctx context.Context, state JobState) (int, error)
}
