//go:build !unix

package comx

import "time"

func processCPU() time.Duration { return 0 }
