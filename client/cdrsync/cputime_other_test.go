//go:build !unix

package cdrsync

import "time"

func processCPU() time.Duration { return 0 }
