package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// flagSet is a flag set whose flags fall back to SAFESIGNAL_* variables.
type flagSet struct {
	*flag.FlagSet
	envErr error
}

func newFlagSet(name string, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flagSet{FlagSet: fs}
}

// envName is the environment variable of a flag: http-addr -> SAFESIGNAL_HTTP_ADDR.
func envName(flagName string) string {
	return "SAFESIGNAL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (fs *flagSet) envOr(name, def string) string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		return v
	}
	return def
}

func (fs *flagSet) String(name, def, usage string) *string {
	return fs.FlagSet.String(name, fs.envOr(name, def), usage+" ($"+envName(name)+")")
}

func (fs *flagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	v := def
	if s, ok := os.LookupEnv(envName(name)); ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			fs.envErr = fmt.Errorf("$%s: %w", envName(name), err)
		}
		v = d
	}
	return fs.FlagSet.Duration(name, v, usage+" ($"+envName(name)+")")
}

func (fs *flagSet) Bool(name string, def bool, usage string) *bool {
	v := def
	if s, ok := os.LookupEnv(envName(name)); ok {
		switch strings.ToLower(s) {
		case "1", "true", "yes", "on":
			v = true
		case "0", "false", "no", "off", "":
			v = false
		default:
			fs.envErr = fmt.Errorf("$%s: %q is not a boolean", envName(name), s)
		}
	}
	return fs.FlagSet.Bool(name, v, usage+" ($"+envName(name)+")")
}

func (fs *flagSet) Float64(name string, def float64, usage string) *float64 {
	v := def
	if s, ok := os.LookupEnv(envName(name)); ok {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			fs.envErr = fmt.Errorf("$%s: %q is not a number", envName(name), s)
		}
		v = f
	}
	return fs.FlagSet.Float64(name, v, usage+" ($"+envName(name)+")")
}

func (fs *flagSet) Int(name string, def int, usage string) *int {
	v := def
	if s, ok := os.LookupEnv(envName(name)); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			fs.envErr = fmt.Errorf("$%s: %q is not a whole number", envName(name), s)
		}
		v = n
	}
	return fs.FlagSet.Int(name, v, usage+" ($"+envName(name)+")")
}

func (fs *flagSet) Parse(args []string) error {
	if err := fs.FlagSet.Parse(args); err != nil {
		return err
	}
	if fs.envErr != nil {
		return usageError{fs.envErr.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// ParseWithArgs parses flags followed by exactly one argument, named
// name in messages (flags after it are parsed too).
func (fs *flagSet) ParseWithArgs(args []string, name string) (string, error) {
	if err := fs.FlagSet.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", usageError{name + " is required"}
	}
	arg := fs.Arg(0)
	if err := fs.FlagSet.Parse(fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.envErr != nil {
		return "", usageError{fs.envErr.Error()}
	}
	if fs.NArg() > 0 {
		return "", usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return arg, nil
}

// newLogger logs JSON, or readable console lines when stderr is a terminal.
func newLogger(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--log-level: %v", err)}
	}
	var cfg zap.Config
	if isTerminal(os.Stderr) {
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
	} else {
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "time"
		cfg.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = true
	cfg.OutputPaths, cfg.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	l, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("logger: %w", err)
	}
	return l, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
