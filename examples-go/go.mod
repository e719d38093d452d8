module github.com/voicetelemetry/voicetelemetry-go

go 1.19
