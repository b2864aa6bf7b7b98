package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func init() {
	register(command{
		name:    "broker",
		usage:   "[--port 9092] [--brokers 1]",
		summary: "start an in-memory Kafka-protocol broker on 127.0.0.1 for trials and tests (NOT durable, NOT for production)",
		run:     runBroker,
	})
}

func runBroker(args []string) int {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	port := fs.Int("port", 9092, "TCP port of the first broker on 127.0.0.1 (0: any free port); further brokers take the next ports")
	brokers := fs.Int("brokers", 1, "number of brokers in the fake cluster")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *brokers < 1 {
		fmt.Fprintln(os.Stderr, "corpusflow broker: --brokers must be at least 1")
		return exitUsage
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(*brokers),
		// Workers in trials use short session timeouts so a killed worker's
		// partitions move quickly.
		kfake.GroupMinSessionTimeout(100 * time.Millisecond),
	}
	if *port == 0 {
		opts = append(opts, kfake.Ports(make([]int, *brokers)...))
	} else {
		ports := make([]int, *brokers)
		for i := range ports {
			ports[i] = *port + i
		}
		opts = append(opts, kfake.Ports(ports...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow broker:", err)
		return exitFailure
	}
	defer c.Close()
	fmt.Fprintln(os.Stderr, "corpusflow broker: an in-memory Kafka-protocol broker (kfake) for trials and tests.")
	fmt.Fprintln(os.Stderr, "  NOT durable: every topic is lost when it stops. NOT for production: use Apache Kafka (see docker-compose.yml).")
	for _, a := range c.ListenAddrs() {
		fmt.Println(a) // stdout: the addresses, one a line, for scripts
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "corpusflow broker: stopping; its topics are gone")
	return exitOK
}
