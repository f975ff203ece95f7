package unseen

import (
	"strings"
	"testing"
)

func state(partitions, sequences map[string]string) *State {
	if partitions == nil {
		partitions = map[string]string{}
	}
	if sequences == nil {
		sequences = map[string]string{}
	}
	return &State{partitions: partitions, sequences: sequences}
}

func TestEqualStatesMissNothing(t *testing.T) {
	s := state(map[string]string{`"public"."e1"`: `PARTITION OF "public"."e" DEFAULT`},
		map[string]string{`"public"."t"."id"`: "bigint"})
	if got := Missing(s, s); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
}

func TestPartitionsAreNamedWhenMissingChangedOrLeftOver(t *testing.T) {
	reached := state(map[string]string{
		`"public"."old"`:     `PARTITION OF "public"."e" DEFAULT`,
		`"public"."changed"`: `PARTITION OF "public"."e" FOR VALUES IN (1)`,
	}, nil)
	desired := state(map[string]string{
		`"public"."new"`:     `PARTITION OF "public"."e" FOR VALUES IN (3)`,
		`"public"."changed"`: `PARTITION OF "public"."e" FOR VALUES IN (2)`,
	}, nil)
	got := strings.Join(Missing(reached, desired), "\n")
	for _, want := range []string{
		`partition "public"."changed": is PARTITION OF "public"."e" FOR VALUES IN (1), wanted PARTITION OF "public"."e" FOR VALUES IN (2)`,
		`partition "public"."new": create it as PARTITION OF "public"."e" FOR VALUES IN (3)`,
		`partition "public"."old": no longer wanted`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestASequenceTypeIsComparedOnlyForAColumnBothStatesHave(t *testing.T) {
	reached := state(nil, map[string]string{`"public"."t"."id"`: "integer", `"public"."t"."gone"`: "integer"})
	desired := state(nil, map[string]string{`"public"."t"."id"`: "bigint", `"public"."t"."new"`: "bigint"})
	got := Missing(reached, desired)
	if len(got) != 1 || !strings.HasPrefix(got[0], `column "public"."t"."id": its sequence is integer, wanted bigint`) {
		t.Fatalf("got %q", got)
	}
}
