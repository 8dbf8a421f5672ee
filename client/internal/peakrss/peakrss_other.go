//go:build !linux

package peakrss

import (
	"errors"
	"os"
)

func applyCap(string) error { return errors.New("address space caps are only applied on Linux") }

func maxRSS(*os.ProcessState) int64 { return 0 }

func ownPeak() (int64, error) { return 0, errors.New("peak memory is only read on Linux") }
