package redact

// cue is what the words just before a number say it is.
type cue uint8

const (
	cueNone     cue = iota
	cuePhone        // 手机, 电话, 号码, 联系方式: a mobile or a landline
	cueLandline     // 座机, 固话
	cueID           // 身份证, 证件号
	cueBank         // 银行卡, 卡号, 账号
	cueOther        // 工单号, 订单, 快递单号, 邮编, 车牌: a number that is not personal data
)

// cueWindow is how far back (in runes) a keyword still names the number that follows it:
// "身份证号码是，嗯，我看一下" is about 12.
const cueWindow = 16

// keywordCue names the keyword s, or cueNone. Longer keywords that end like a shorter one of
// another kind ("工单号码" and "号码") are listed so the longest match can win.
func keywordCue(s string) cue {
	switch s {
	case "手机", "电话", "号码", "手机号", "电话号", "联系方式", "打我", "联系我", "回电", "回拨", "微信", "打给我",
		"拨打", "致电", "打给", "打到", "打这个", "你打", "就打", "可以打", "区号":
		return cuePhone
	case "座机", "固话", "固定电话", "办公电话", "家里电话", "座机号", "座机号码":
		return cueLandline
	case "身份证", "证件号", "身份号", "证号", "身份证号", "证件号码", "身份证号码":
		return cueID
	case "银行卡", "卡号", "账号", "帐号", "账户", "帐户", "存折", "信用卡", "储蓄卡", "借记卡", "银行卡号", "银行卡号码", "卡号码",
		"工资卡", "社保卡", "医保卡", "这张卡", "农行卡", "工行卡", "建行卡", "中行卡", "交行卡", "邮储卡", "开户行":
		return cueBank
	case "工单", "单号", "编号", "订单", "快递", "邮编", "邮政编码", "车牌", "房间", "门牌", "发票",
		"合同", "受理号", "流水号", "批次", "案件", "热线", "分机", "房号", "工单号码", "订单号码",
		"单号码", "编号码", "车牌号码", "房间号码", "门牌号码", "快递单号", "航班", "车次", "学号", "工号",
		"发票号码", "合同号码", "QQ", "qq", "QQ号", "QQ号码", "准考证", "准考证号", "许可证号", "执照号",
		"房产证号", "不动产证号", "结婚证号", "证书编号", "证书号",
		"尾号", "后四位", "后六位", "末四位", "后几位", "前六位":
		return cueOther
	}
	return cueNone
}

// cueBefore reads the keyword nearest before rune from (and after rune floor): the one that
// ends last, the longest of those. It reads the text in place through the rune offsets.
func cueBefore(text string, offs []int, floor, from int) cue {
	lo := max(floor, from-cueWindow)
	for end := from; end > lo; end-- {
		for n := 6; n >= 2; n-- {
			if end-n < lo {
				continue
			}
			if c := keywordCue(text[offs[end-n]:offs[end]]); c != cueNone {
				return c
			}
		}
	}
	return cueNone
}
