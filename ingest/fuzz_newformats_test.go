package ingest_test

import (
	"testing"
)

// Fuzz targets for the TRL console and W&B readers (see fuzz_test.go).

func FuzzTRLConsole(f *testing.F) {
	f.Add([]byte(trlConsoleLog))
	f.Add([]byte("{'loss': 1, 'reward': '0.5', 'x': \"a'b\", 'y': None}\n\r{'eval_loss': nan}\n{'loss': 1e999, 'reward': np.float64(2)}"))
	f.Add([]byte("{'loss': {'a': 1}}\n{'loss'\n{'reward': 'x\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "trl-console")
		fuzzRead(t, data, "")
	})
}

func FuzzWandb(f *testing.F) {
	w := newWBWriter()
	for i := 0; i < 5; i++ {
		w.record(wbHistory(i, "reward", "0.5", "_runtime", "1", "nested", `{"a": 1}`))
	}
	f.Add(w.b.Bytes())
	f.Add(w.b.Bytes()[:40])
	f.Add([]byte(":W&B\xe1\xbe\x00\x00\x00\x00\x00\xff\xff\x01"))
	f.Add([]byte(`{"_step": 0, "_runtime": 1, "reward": 2}` + "\n" + `{"_step": "x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "wandb")
		fuzzRead(t, data, "wandb-history")
		fuzzRead(t, data, "")
	})
}
