package alibaba

import "testing"

// The worked example of Alibaba Cloud's RPC signature document (ECS DescribeRegions with
// AccessKey testid/testsecret): the same canonical query and signature.
func TestSignMatchesTheDocumentedExample(t *testing.T) {
	q := map[string]string{
		"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
		"Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
	}
	canonical := CanonicalQuery(q)
	want := "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
	if canonical != want {
		t.Fatalf("canonical query\n got %s\nwant %s", canonical, want)
	}
	if got := Sign("testsecret", "GET", canonical); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Fatalf("signature %s, want OLeaidS1JvxuMvnyHOwuJ+uX5qY=", got)
	}
}
