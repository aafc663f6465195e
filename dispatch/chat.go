package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Chat is an OpenAI-compatible chat-completions endpoint asked for one JSON object per
// question: dispatch ranks departments with it, workorder writes summaries.
type Chat struct {
	endpoint, model, apiKey string
	client                  *http.Client
}

// NewChat addresses url (a base …/v1 or the full …/chat/completions endpoint) with model
// and an optional bearer apiKey; client may be nil.
func NewChat(url, model, apiKey string, client *http.Client) *Chat {
	if client == nil {
		client = &http.Client{}
	}
	endpoint := strings.TrimRight(url, "/")
	if !strings.HasSuffix(endpoint, "/chat/completions") {
		endpoint += "/chat/completions"
	}
	return &Chat{endpoint: endpoint, model: model, apiKey: apiKey, client: client}
}

// String names the endpoint and model for logs.
func (c *Chat) String() string { return fmt.Sprintf("llm(%s %s)", c.endpoint, c.model) }

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model          string            `json:"model"`
	Messages       []chatMessage     `json:"messages"`
	Temperature    float64           `json:"temperature"`
	ResponseFormat map[string]string `json:"response_format"`
}

type chatResponse struct {
	Choices []struct {
		Message chatMessage `json:"message"`
	} `json:"choices"`
}

// maxLLMBody bounds the answer read from the endpoint.
const maxLLMBody = 1 << 20

// Ask sends the system and user messages, asking for a JSON object, and returns the first
// choice's content; the caller checks that content strictly.
func (c *Chat) Ask(ctx context.Context, system, user string) (string, error) {
	body, err := json.Marshal(chatRequest{Model: c.model,
		Messages:       []chatMessage{{Role: "system", Content: system}, {Role: "user", Content: user}},
		ResponseFormat: map[string]string{"type": "json_object"}})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxLLMBody))
	if err != nil {
		return "", fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil || len(cr.Choices) == 0 {
		return "", fmt.Errorf("not a chat completion (%w)", err)
	}
	return cr.Choices[0].Message.Content, nil
}
