package pack

// CompareWithArrowJS is compareWithArrowJS for the external tests in
// package pack_test (quickstart_test.go).
var CompareWithArrowJS = compareWithArrowJS
