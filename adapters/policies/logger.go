package policies

import (
	"github.com/ThreeDotsLabs/watermill"
	"go.uber.org/zap"
)

// zapLogger adapts zap to watermill's logger.
type zapLogger struct{ l *zap.Logger }

func newZapLogger(l *zap.Logger) watermill.LoggerAdapter { return zapLogger{l: l} }

func fields(f watermill.LogFields) []zap.Field {
	out := make([]zap.Field, 0, len(f))
	for k, v := range f {
		out = append(out, zap.Any(k, v))
	}
	return out
}

func (z zapLogger) Error(msg string, err error, f watermill.LogFields) {
	z.l.Error(msg, append(fields(f), zap.Error(err))...)
}
func (z zapLogger) Info(msg string, f watermill.LogFields)  { z.l.Info(msg, fields(f)...) }
func (z zapLogger) Debug(msg string, f watermill.LogFields) { z.l.Debug(msg, fields(f)...) }
func (z zapLogger) Trace(msg string, f watermill.LogFields) { z.l.Debug(msg, fields(f)...) }
func (z zapLogger) With(f watermill.LogFields) watermill.LoggerAdapter {
	return zapLogger{l: z.l.With(fields(f)...)}
}
