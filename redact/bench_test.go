package redact

import "testing"

// benchLines returns utterances as the recogniser finalises them: most hold no personal number,
// some hold ordinary numbers, about one in four a personal one.
func benchLines() []string {
	return []string{
		"喂你好，我想反映一下我们小区门口的路灯坏了好几天了",
		"我住在幸福小区3号楼2单元1502室，楼上天天晚上装修",
		"我手机号是幺三八，嗯，零五八零，幺二三四，你记一下",
		"上个月的水费交了两百多块，怎么这个月又要三千五",
		"二零二六年十二月六号下午三点左右停的电",
		"身份证号码是三三零九零二一九八五零三一二零零一八",
		"好的好的，那麻烦你们尽快处理一下，谢谢",
		"我打了好几次12345，工单号是2026120600123，一直没人回复",
		"银行卡号6222 0212 3456 7890 128，补贴一直没到账",
		"公交12路早上七点那班老是不来，等了四十分钟",
		"嗯，对，就是那个菜市场旁边的垃圾站，味道很大",
		"你打我座机也行，零五八零 二六零幺二三四",
	}
}

// BenchmarkRedact reports throughput in lines per second over benchLines.
func BenchmarkRedact(b *testing.B) {
	b.ReportAllocs()
	lines := benchLines()
	n := 0
	for b.Loop() {
		for _, l := range lines {
			_, spans := Redact(l)
			n += len(spans)
		}
	}
	b.ReportMetric(float64(b.N*len(lines))/b.Elapsed().Seconds(), "lines/s")
	if n == 0 {
		b.Fatal("no number found: the benchmark measures nothing")
	}
}
