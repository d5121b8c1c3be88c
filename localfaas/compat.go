package localfaas

import (
	"context"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/embedded"
	"github.com/stockalert/stockalert/localfaas/stack"
	"github.com/stockalert/stockalert/shared/kafka"
)

// Transitional names while localfaas moves into its packages.
type (
	Stack         = stack.Stack
	StackFunction = stack.Function
	Broker        = embedded.Broker
	BrokerConfig  = embedded.BrokerConfig
)

const (
	Namespace          = stack.Namespace
	AnnotationTopic    = stack.AnnotationTopic
	AnnotationSchedule = stack.AnnotationSchedule
	CronTopic          = stack.CronTopic
	LabelScaleMin      = stack.LabelScaleMin
	DLQSuffix          = stack.DLQSuffix
)

var (
	LoadStack    = stack.Load
	ParseStack   = stack.Parse
	KafkaTopics  = stack.KafkaTopics
	CronSchedule = stack.CronSchedule
	Triggers     = stack.Triggers
	StartBroker  = embedded.StartBroker
)

func StackDeployment(fn StackFunction) types.FunctionDeployment { return fn.Deployment() }

func CreateTopics(ctx context.Context, brokers []string, topics []string) error {
	specs := make([]kafka.TopicSpec, len(topics))
	for i, t := range topics {
		specs[i] = kafka.TopicSpec{Name: t}
	}
	return kafka.EnsureTopics(ctx, brokers, specs...)
}

