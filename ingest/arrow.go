package ingest

import (
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Record returns the run as an Arrow record: one column per Run column, in
// Columns() order and under the same names, numeric columns as float64 and
// string columns as utf8, with nulls where the run has no value (NaN / "").
// mem == nil uses memory.DefaultAllocator. The caller must Release the
// record. Run.Meta is attached as schema metadata.
func (r *Run) Record(mem memory.Allocator) arrow.Record {
	var cols []outCol
	for _, name := range r.Columns() {
		c := outCol{name: name, src: name}
		if s, ok := r.StringColumn(name); ok {
			c.kind, c.str = outString, s
		} else {
			c.num, _ = r.Column(name)
		}
		cols = append(cols, c)
	}
	return buildRecord(cols, r.Len(), r.Meta, mem)
}

// buildRecord builds an Arrow record from output columns. outInt columns
// become int64 when every present value is an integer that float64 holds
// exactly (and not -0), float64 otherwise.
func buildRecord(cols []outCol, n int, meta map[string]string, mem memory.Allocator) arrow.Record {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	fields := make([]arrow.Field, 0, len(cols))
	arrs := make([]arrow.Array, 0, len(cols))
	valid := make([]bool, n)
	for i := range cols {
		c := &cols[i]
		switch {
		case c.kind == outString:
			b := array.NewStringBuilder(mem)
			b.Reserve(n)
			for j := 0; j < n; j++ {
				if c.str != nil && c.str[j] != "" {
					b.Append(c.str[j])
				} else {
					b.AppendNull()
				}
			}
			fields = append(fields, arrow.Field{Name: c.name, Type: arrow.BinaryTypes.String, Nullable: true})
			arrs = append(arrs, b.NewArray())
			b.Release()
		case c.kind == outInt && allIntegral(c.num):
			b := array.NewInt64Builder(mem)
			vals := make([]int64, n)
			for j := 0; j < n; j++ {
				valid[j] = c.num != nil && !math.IsNaN(c.num[j])
				if valid[j] {
					vals[j] = int64(c.num[j])
				}
			}
			b.AppendValues(vals, valid)
			fields = append(fields, arrow.Field{Name: c.name, Type: arrow.PrimitiveTypes.Int64, Nullable: true})
			arrs = append(arrs, b.NewArray())
			b.Release()
		default:
			b := array.NewFloat64Builder(mem)
			num := c.num
			if num == nil {
				num = make([]float64, n)
			}
			for j := 0; j < n; j++ {
				valid[j] = c.num != nil && !math.IsNaN(num[j])
			}
			b.AppendValues(num, valid)
			fields = append(fields, arrow.Field{Name: c.name, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
			arrs = append(arrs, b.NewArray())
			b.Release()
		}
	}
	var md *arrow.Metadata
	if len(meta) > 0 {
		var ks, vs []string
		for k, v := range meta {
			ks = append(ks, k)
			vs = append(vs, v)
		}
		m := arrow.NewMetadata(ks, vs)
		md = &m
	}
	rec := array.NewRecord(arrow.NewSchema(fields, md), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func allIntegral(c []float64) bool {
	for _, x := range c {
		if math.IsNaN(x) {
			continue
		}
		if x != math.Trunc(x) || math.Abs(x) >= 1<<53 || (x == 0 && math.Signbit(x)) {
			return false
		}
	}
	return true
}
