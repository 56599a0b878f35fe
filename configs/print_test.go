package configs

import "fmt"

func fmtAll(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }
