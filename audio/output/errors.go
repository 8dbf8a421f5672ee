package output

import "errors"

var errAlreadyStarted = errors.New("output already started; open another one")
