package ingest_test

import (
	"fmt"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Reading a trainer's own JSONL log with a column mapping, then writing it
// in rewardspy's CSV layout.
func ExampleWriteCSV() {
	log := `{"step": 1, "train_reward": 0.5, "kl": 0.0}
{"step": 2, "train_reward": 0.75, "kl": 0.01}
{"step": 2, "eval_accuracy": 0.6}
`
	run, err := ingest.Read(strings.NewReader(log), "metrics.jsonl",
		ingest.Options{Map: map[string]string{"reward": "train_reward"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.Format, run.Grain, run.Len(), run.Columns())
	var b strings.Builder
	if err := ingest.WriteCSV(&b, run); err != nil {
		fmt.Println(err)
	}
	// Lines end in \r\n, as Python's csv module (and so rewardspy) writes them.
	fmt.Print(strings.ReplaceAll(b.String(), "\r\n", "\n"))
	// Output:
	// jsonl step 2 [step reward kl eval.accuracy]
	// step,timestamp,call_id,scalar_reward,call_duration_ms,input_length,output_length,kl,eval.accuracy
	// 1,,,0.5,,,,0.0,
	// 2,,,0.75,,,,0.01,0.6
}

// Reading a rewardspy log and writing it back gives the same bytes.
func ExampleWriteJSONL() {
	line := `{"call_id":"c7","timestamp":1790000000.5,"step":7,"scalar_reward":1.1,"components":{"correctness":1.0,"format":0.1,"total":1.1},"call_duration_ms":2.215,"input_length":577,"output_length":457}`
	run, err := ingest.Read(strings.NewReader(line+"\n"), "run.jsonl", ingest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var b strings.Builder
	ingest.WriteJSONL(&b, run)
	fmt.Println(run.Format, run.Components())
	fmt.Println(b.String() == line+"\n")
	// Output:
	// rewardspy-jsonl [correctness format total]
	// true
}
